/**
 * Runs one shell script in the guest kit under QEMU (microvm, KVM) and
 * returns what it printed. The kit's /init prints the boot marker, runs the
 * script passed with `tsvmm.run=`, frames its output, and resets the VM
 * through the i8042 (`reboot=k`), which QEMU's -no-reboot turns into an exit.
 */
import { spawn } from 'node:child_process';
import { type GuestKit, type GuestRunResult, guestRunParam, parseGuestRun } from '@tsvmm/guest-kit';

export interface QemuRunOptions {
  /** The kernel to boot: `kit.vmlinux` (PVH, the default) or `kit.bzImage`. */
  readonly kernel?: string;
  /** Stop QEMU as soon as the script's output is complete instead of waiting for the guest's reset. */
  readonly stopAfterRun?: boolean;
  /** Kill QEMU after this long. Default 5 minutes. */
  readonly timeoutMs?: number;
}

export interface QemuRun {
  /** The script's output and exit status, or undefined if the frame never came. */
  readonly run: GuestRunResult | undefined;
  /** Everything the guest wrote to its serial console. */
  readonly console: string;
  /** QEMU's exit status (0 after the guest's reset), or null if it was killed. */
  readonly exitCode: number | null;
  readonly seconds: number;
}

export function runInQemu(kit: GuestKit, script: string, options: QemuRunOptions = {}): Promise<QemuRun> {
  const args = [
    ...['-M', 'microvm,acpi=off', '-enable-kvm', '-cpu', 'host,-arch-capabilities', '-m', '128'],
    ...['-nographic', '-no-reboot', '-kernel', options.kernel ?? kit.vmlinux, '-initrd', kit.initramfs],
    // The kit's rootfs as a read-only virtio-blk disk, and a virtio-rng.
    ...['-drive', `id=root,file=${kit.rootfs},format=raw,if=none,readonly=on`],
    ...['-device', 'virtio-blk-device,drive=root', '-device', 'virtio-rng-device'],
    ...['-append', `${kit.cmdline} ${guestRunParam(script)}`],
  ];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let console = '';
    const collect = (chunk: string): void => {
      console += chunk;
      if (options.stopAfterRun && parseGuestRun(console) !== undefined) qemu.kill('SIGKILL');
    };
    qemu.stdout.setEncoding('utf8').on('data', collect);
    qemu.stderr.setEncoding('utf8').on('data', collect);
    const timer = setTimeout(() => qemu.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    qemu.on('error', reject);
    qemu.on('close', (exitCode) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      resolve({ run: parseGuestRun(console), console, exitCode, seconds });
    });
  });
}
