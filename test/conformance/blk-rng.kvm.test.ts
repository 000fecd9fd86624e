/**
 * virtio conformance of the block and entropy devices: the test guest checks
 * from the driver's side what virtio 1.2 requires of a virtio-mmio device, of
 * virtio-blk and of virtio-rng (feature negotiation, reset, queue limits,
 * interrupt status, used lengths, status codes for bad requests, ring index
 * wrap), against the reference VMM and, as a control, against QEMU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGuest, testGuestCmdline, writePatternImage } from '@tsvmm/test-guest';
import { afterAll, describe, expect, it } from 'vitest';
import { kvmAvailable } from '../support.js';
import { expectedChecks } from './checks.js';

const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECTORS = 8192;
const SERIAL = 'tsvmm-conf-disk';

describe.skipIf(!kvmAvailable).each(['reference', 'qemu'] as const)(
  'virtio-blk and virtio-rng conformance under %s',
  (vmm) => {
    it('every check passes', async () => {
      const path = join(dir, `${vmm}.img`);
      writePatternImage(path, SECTORS * 512, 0x5eed);
      const run = await runGuest({
        vmm,
        cmdline: testGuestCmdline({
          work: ['conformance'],
          blk: { seed: 0x5eed, expectSectors: SECTORS, expectSerial: SERIAL },
        }),
        disk: { path, serial: SERIAL },
        rng: true,
      });
      expect(run.ended, run.console + run.stderr).toBe('done');
      const result = run.result!;
      expect(result.devices.map((d) => [d.type, d.version])).toEqual(
        expect.arrayContaining([
          ['blk', 2],
          ['rng', 2],
        ]),
      );
      const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.message}`);
      expect(failed).toEqual([]);
      expect(result.checks.map((c) => c.id).sort()).toEqual(expectedChecks(['blk', 'rng']).sort());
      expect(result.status).toBe('ok');
    });
  },
);
