/**
 * virtio-net conformance: the transport checks, then one request to the peer
 * in a private network namespace and its answer, with the used lengths and
 * the receive header virtio 1.2 requires when no offload was negotiated,
 * against the reference VMM and, as a control, against QEMU.
 */
import { createTestNetwork, runGuest, testGuestCmdline } from '@tsvmm/test-guest';
import { describe, expect, it } from 'vitest';
import { kvmAvailable } from '../support.js';
import { expectedChecks } from './checks.js';

describe.skipIf(!kvmAvailable).each(['reference', 'qemu'] as const)(
  'virtio-net conformance under %s',
  (vmm) => {
    it('every check passes', async () => {
      await using net = await createTestNetwork();
      const run = await runGuest({
        vmm,
        cmdline: testGuestCmdline({
          work: ['conformance'],
          net: { ip: net.guestIp, peer: net.hostIp, peerMac: net.hostMac, port: net.port },
        }),
        netns: net.namespace,
        net: { tap: net.tap, mac: net.guestMac },
      });
      expect(run.ended, run.console + run.stderr).toBe('done');
      const result = run.result!;
      expect(result.devices.map((d) => [d.type, d.version])).toEqual([['net', 2]]);
      const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.message}`);
      expect(failed).toEqual([]);
      expect(result.checks.map((c) => c.id).sort()).toEqual(expectedChecks(['net']).sort());
      expect(result.status).toBe('ok');
      expect(await net.peerStats()).toMatchObject({ requests: 1, rxSent: 1, bad: 0 });
    });
  },
);
