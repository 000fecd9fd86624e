/**
 * Runs one shell script in the guest kit under QEMU (microvm, KVM) and
 * returns what it printed. The kit's /init prints the boot marker, runs the
 * script passed with `tsvmm.run=`, frames its output, and resets the VM
 * through the i8042 (`reboot=k`), which QEMU's -no-reboot turns into an exit.
 */
import { spawn } from 'node:child_process';
import { type GuestKit, type GuestRunResult, guestRunParam, parseGuestRun } from '@tsvmm/guest-kit';

export interface QemuRun {
  /** The script's output and exit status, or undefined if the frame never came. */
  readonly run: GuestRunResult | undefined;
  /** Everything the guest wrote to its serial console. */
  readonly console: string;
  /** QEMU's exit status (0 after the guest's reset), or null if it was killed at the timeout. */
  readonly exitCode: number | null;
  readonly seconds: number;
}

export function runInQemu(kit: GuestKit, script: string, timeoutMs = 300_000): Promise<QemuRun> {
  const args = [
    ...['-M', 'microvm,acpi=off', '-enable-kvm', '-cpu', 'host,-arch-capabilities', '-m', '128'],
    ...['-nographic', '-no-reboot', '-kernel', kit.vmlinux, '-initrd', kit.initramfs],
    // The kit's rootfs as a read-only virtio-blk disk, and a virtio-rng.
    ...['-drive', `id=root,file=${kit.rootfs},format=raw,if=none,readonly=on`],
    ...['-device', 'virtio-blk-device,drive=root', '-device', 'virtio-rng-device'],
    ...['-append', `${kit.cmdline} ${guestRunParam(script)}`],
  ];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let console = '';
    qemu.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      console += chunk;
    });
    qemu.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      console += chunk;
    });
    const timer = setTimeout(() => qemu.kill('SIGKILL'), timeoutMs);
    qemu.on('error', reject);
    qemu.on('close', (exitCode) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      resolve({ run: parseGuestRun(console), console, exitCode, seconds });
    });
  });
}
