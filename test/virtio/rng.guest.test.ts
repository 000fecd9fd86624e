/**
 * virtio-rng end to end: the reference VMM announces the device on the
 * kernel command line, the guest kit's Linux probes it over virtio-mmio and
 * reads entropy from /dev/hwrng — queue notifications through an
 * ioeventfd, completions through an irqfd, the device on the I/O thread.
 */
import { GUEST_BOOT_MARKER, guestRunParam, parseGuestRun } from '@tsvmm/guest-kit';
import { DEFAULT_CMDLINE } from '@tsvmm/reference-vmm';
import { describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_MS, bootGuest, guestKit, kvmAvailable } from '../support.js';

// One process per line at most: every exec costs about a second of emulated guest kernel time.
const SCRIPT = [
  'cat /proc/cmdline /sys/class/misc/hw_random/rng_available /sys/class/misc/hw_random/rng_current',
  'head -c 64 /dev/hwrng | od -An -tx1',
].join('\n');

describe.skipIf(!kvmAvailable)('virtio-rng in the guest kit', () => {
  it('is announced on the command line, probed by virtio_rng, and /dev/hwrng gives 64 random bytes', {
    timeout: BOOT_TIMEOUT_MS,
  }, async () => {
    const kit = await guestKit();
    const { vm, exit, console } = await bootGuest({
      kernel: kit.vmlinux,
      initrd: kit.initramfs,
      rng: true,
      cmdline: `${DEFAULT_CMDLINE} tsvmm.end=poweroff ${guestRunParam(SCRIPT)}`,
    });
    expect(console).toContain(GUEST_BOOT_MARKER);
    const run = parseGuestRun(console);
    expect(run, console).toBeDefined();
    expect(run!.status).toBe(0);
    const [cmdline, available, current, ...hex] = run!.output.trim().split('\n');
    // The first (and only) device: the first window of the virtio-mmio area, the first IRQ after 4.
    expect(cmdline).toMatch(/(^| )virtio_mmio\.device=4K@0xd0000000:5( |$)/);
    expect(available).toMatch(/virtio_rng\.0/);
    expect(current).toBe('virtio_rng.0');
    const bytes = hex.join(' ').trim().split(/\s+/);
    expect(bytes).toHaveLength(64);
    expect(bytes.every((b) => /^[0-9a-f]{2}$/.test(b))).toBe(true);
    expect(new Set(bytes).size).toBeGreaterThan(20); // 64 random bytes: about 57 distinct values
    expect(exit.reason).toBe('poweroff');
    // The guest's driver made no mistake the transport had to count, and was interrupted.
    const counters = vm.virtioMetrics().rng!;
    expect(counters.interrupts).toBeGreaterThan(0);
    expect(counters.badAccess + counters.badRegister + counters.badStatus + counters.badWrite).toBe(0);
    expect(counters.badNotify + counters.deviceErrors + counters.badQueueConfig).toBe(0);
    // Every notification went through the ioeventfd: none exited to the VMM.
    expect(counters.notifyForwarded).toBe(0);
  });
});
