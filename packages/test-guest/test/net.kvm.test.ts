/**
 * The network workloads against the peer in a private network namespace:
 * what the guest sends arrives intact, and what it asks for comes back.
 */
import { describe, expect, it } from 'vitest';
import { createTestNetwork, runGuest, testGuestCmdline } from '../src/index.js';
import { kvmAvailable, VMMS } from './support.js';

const root = process.getuid?.() === 0;

describe.skipIf(!kvmAvailable || !root).each(VMMS)('net-tx and net-rx under %s', (vmm) => {
  it('sends packets the peer verifies, and receives the windows it asks for, all verified', async () => {
    await using net = await createTestNetwork();
    // Few and small enough that the peer's socket buffer holds every one: nothing may be dropped.
    const packets = 300;
    const payloadBytes = 512;
    const run = await runGuest({
      vmm,
      cmdline: testGuestCmdline({
        work: ['net-tx', 'net-rx'],
        net: {
          ip: net.guestIp,
          peer: net.hostIp,
          peerMac: net.hostMac,
          port: net.port,
          packets,
          payloadBytes,
          window: 32,
        },
      }),
      netns: net.namespace,
      net: { tap: net.tap, mac: net.guestMac },
    });
    expect(run.ended, run.console + run.stderr).toBe('done');
    expect(run.result?.status, run.console).toBe('ok');
    const [tx, rx] = run.result!.results;
    expect(tx).toMatchObject({
      work: 'net-tx',
      ok: true,
      ops: packets,
      bytes: packets * payloadBytes,
      errors: 0,
    });
    expect(rx).toMatchObject({
      work: 'net-rx',
      ok: true,
      ops: packets,
      bytes: packets * payloadBytes,
      errors: 0,
    });
    const stats = await net.peerStats();
    expect(stats).toMatchObject({ txPackets: packets, txBytes: packets * payloadBytes, bad: 0 });
    // ceil(300 / 32) windows were asked for and answered in full.
    expect(stats.requests).toBe(Math.ceil(packets / 32));
    expect(stats.rxSent).toBe(packets);
  });
});

describe.skipIf(!kvmAvailable || !root)('net-rx when the peer never answers', () => {
  it('asks for each window 4 times, then counts its packets lost', async () => {
    await using net = await createTestNetwork();
    const run = await runGuest({
      vmm: 'reference',
      cmdline: testGuestCmdline({
        work: ['net-rx'],
        // Nothing listens on this port in the namespace: the requests go unanswered.
        net: {
          ip: net.guestIp,
          peer: net.hostIp,
          peerMac: net.hostMac,
          port: net.port + 1,
          packets: 10,
          window: 10,
        },
      }),
      netns: net.namespace,
      net: { tap: net.tap, mac: net.guestMac },
    });
    expect(run.result?.results[0]).toMatchObject({
      work: 'net-rx',
      ok: false,
      ops: 0,
      errors: 10,
      note: '10 packets from the peer never arrived (each window asked for 4 times)',
    });
    expect(await net.peerStats()).toMatchObject({ requests: 0, bad: 0 });
  });
});

describe.skipIf(!root)('createTestNetwork', () => {
  it('makes a namespace with the TAP device and removes it on close', async () => {
    const { execFileSync } = await import('node:child_process');
    const net = await createTestNetwork();
    const names = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(names()).toContain(net.namespace);
    const link = execFileSync('ip', ['-n', net.namespace, '-o', 'link', 'show', net.tap], {
      encoding: 'utf8',
    });
    expect(link).toContain(`link/ether ${net.hostMac}`);
    await net.close();
    expect(names()).not.toContain(net.namespace);
    await net.close(); // twice is fine
  });

  it('NETWORK_SETUP_FAILED for a namespace that exists, which it leaves alone', async () => {
    await using first = await createTestNetwork({ namespace: `tsvmm-tg-dup-${process.pid}` });
    await expect(createTestNetwork({ namespace: first.namespace })).rejects.toMatchObject({
      name: 'TestGuestError',
      code: 'NETWORK_SETUP_FAILED',
    });
    expect(await first.peerStats()).toMatchObject({ bad: 0 }); // the first one's peer still answers
  });

  it('refuses a namespace name ip would not take, before running anything', async () => {
    await expect(createTestNetwork({ namespace: 'a b' })).rejects.toThrow(RangeError);
  });
});
