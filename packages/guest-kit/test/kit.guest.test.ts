/**
 * Proves the kit boots: its kernels and initramfs under QEMU microvm with KVM
 * (the only place this package uses QEMU), with the kit's rootfs attached as
 * a virtio-mmio block device. On a software-KVM host a boot takes 1-2
 * minutes, several on a machine busy with other builds.
 */
import { accessSync, constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runInQemu } from '../examples/qemu-run.js';
import { ensureGuestKit } from '../src/guest-kit.js';

function kvmAvailable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const timeoutMs = 840_000;

describe.skipIf(!kvmAvailable())('the kit under QEMU microvm (KVM)', () => {
  it('vmlinux (PVH) boots, prints the marker, runs the command from the command line, and resets the VM', async () => {
    const kit = await ensureGuestKit();
    const script = [
      'uname -r',
      'cat /sys/class/misc/hw_random/rng_current',
      'mkdir /tmp/root && mount -t ext4 -o ro /dev/vda /tmp/root && head -n 1 /tmp/root/sbin/init',
      'exit 3',
    ].join('\n');
    const { run, console, exitCode, seconds } = await runInQemu(kit, script, { timeoutMs });
    expect(console, `after ${seconds} s`).toContain(`${kit.bootMarker}\r\n`);
    expect(run, console).toBeDefined();
    expect(run!.output).toMatch(/^6\.1\.\d+\nvirtio_rng\.0\n#!\/bin\/sh$/);
    expect(run!.status).toBe(3);
    // QEMU runs with -no-reboot: it exits by itself only when the guest resets.
    expect(exitCode, `after ${seconds} s:\n${console}`).toBe(0);
  }, 900_000);

  it('the bzImage boots the same way through the x86 boot protocol', async () => {
    const kit = await ensureGuestKit();
    // After the guest's reset QEMU restarts its firmware here (instead of exiting), which the
    // software-KVM host cannot run: stop QEMU once the output is complete.
    const { run, console } = await runInQemu(kit, 'uname -v', {
      kernel: kit.bzImage,
      stopAfterRun: true,
      timeoutMs,
    });
    expect(console).toContain(`${kit.bootMarker}\r\n`);
    expect(run, console).toEqual({ status: 0, output: '#1 SMP 1970-01-01 00:00:00 UTC' });
  }, 900_000);
});
