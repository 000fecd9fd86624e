/**
 * virtio-net end to end: the reference VMM opens a TAP device by name, the
 * guest kit's Linux probes the device over virtio-mmio as eth0 with the
 * configured MAC, and the guest exchanges packets with a host peer in a
 * network namespace the test makes (pings both ways) — frames through
 * the TAP on the I/O thread, notifications through ioeventfds, interrupts
 * through an irqfd. The guest can reach nothing but the peer.
 */
import { GUEST_BOOT_MARKER, guestRunParam, parseGuestRun } from '@tsvmm/guest-kit';
import { createVm, DEFAULT_CMDLINE, finalizeConfig, type VmConfig } from '@tsvmm/reference-vmm';
import { afterAll, describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_MS, guestKit, kvmAvailable } from '../support.js';
import { createNetPeer, GUEST_IP, type NetPeer, PEER_IP } from '../support-netns.js';

const MAC = '02:00:00:7e:57:01';

// One process per line at most: every exec costs about a second of emulated guest kernel time.
const SCRIPT = [
  'cat /sys/class/net/eth0/address',
  'readlink /sys/class/net/eth0/device/driver',
  `ip addr add ${GUEST_IP}/24 dev eth0 && ip link set eth0 up`,
  `ping -c 3 -w 30 ${PEER_IP}`,
  'sleep 2', // the peer pings the guest meanwhile
].join('\n');

let peer: NetPeer | undefined;
afterAll(() => peer?.remove());

describe.skipIf(!kvmAvailable)('virtio-net in the guest kit', () => {
  it('is probed as eth0 with its MAC, pings the host peer and answers its pings', {
    timeout: BOOT_TIMEOUT_MS,
  }, async () => {
    const kit = await guestKit();
    peer = createNetPeer();
    const vm = await createVm(
      finalizeConfig({
        kernel: kit.vmlinux,
        initrd: kit.initramfs,
        net: [{ id: 'net0', tap: peer.tap, mac: MAC }],
        cmdline: `${DEFAULT_CMDLINE} tsvmm.end=poweroff ${guestRunParam(SCRIPT)}`,
      } as VmConfig),
    );
    peer.attach(); // the VMM holds the TAP open; it works on in the namespace
    // The peer pings the guest all along (busybox's ping: ./dev installs busybox-static for the
    // guest kit); the guest answers once its script has set eth0 up.
    const peerPing = peer.start('busybox', 'ping', '-i', '0.2', GUEST_IP);
    let console = '';
    vm.console.output.on('data', (chunk: Buffer) => {
      console += chunk.toString('latin1');
    });
    await vm.start();
    const exit = await vm.wait();
    const peerPings = await peerPing.stop();
    expect(console).toContain(GUEST_BOOT_MARKER);
    const run = parseGuestRun(console);
    expect(run, console).toBeDefined();
    expect(run!.status, run!.output).toBe(0);
    const [mac, driver, ...rest] = run!.output.trim().split('\n');
    expect(mac).toBe(MAC);
    expect(driver).toMatch(/\/virtio_net$/);
    const output = rest.join('\n');
    expect(output).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
    expect(peerPings).toMatch(new RegExp(`bytes from ${GUEST_IP.replaceAll('.', '\\.')}: seq=\\d+ ttl=64`));
    expect(exit.reason).toBe('poweroff');

    // The guest's driver made no mistake the transport had to count, and every notification took the ioeventfd.
    const counters = vm.virtioMetrics().net0!;
    expect(counters.interrupts).toBeGreaterThan(0);
    expect(counters.badAccess + counters.badRegister + counters.badStatus + counters.badWrite).toBe(0);
    expect(counters.badConfigAccess).toBe(0); // the MAC and the status are all Linux reads
    expect(counters.badNotify + counters.deviceErrors + counters.badQueueConfig).toBe(0);
    expect(counters.notifyForwarded).toBe(0);
  });
});
