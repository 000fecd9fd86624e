/**
 * The reference VMM boots the guest kit's Linux through each boot path, and
 * the guest sees what was asked for; every way the guest ends is told apart.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GUEST_BOOT_MARKER, guestRunParam, parseGuestRun } from '@tsvmm/guest-kit';
import { DEFAULT_CMDLINE, EXIT_STATUS } from '@tsvmm/reference-vmm';
import { describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_MS, bootGuest, guestKit, kvmAvailable } from '../support.js';

const BIN = join(
  dirname(createRequire(import.meta.url).resolve('@tsvmm/reference-vmm/package.json')),
  'bin',
  'reference-vmm.js',
);

/** The guest's script: the vCPUs and memory it sees. */
const PROBE_SCRIPT = 'grep -c ^processor /proc/cpuinfo; grep MemTotal /proc/meminfo';

function seen(consoleText: string): { cpus: number; memTotalKiB: number } {
  const result = parseGuestRun(consoleText);
  expect(result, `no framed command output in:\n${consoleText}`).toBeDefined();
  expect(result!.status).toBe(0);
  const [cpus, mem] = result!.output.trim().split('\n');
  return { cpus: Number(cpus), memTotalKiB: Number(/MemTotal:\s+(\d+) kB/.exec(mem ?? '')?.[1]) };
}

describe.skipIf(!kvmAvailable)('booting the guest kit', () => {
  it('PVH (the default for a vmlinux): two vCPUs and 256 MiB, then poweroff -f', {
    timeout: BOOT_TIMEOUT_MS,
  }, async () => {
    const kit = await guestKit();
    const { exit, console } = await bootGuest({
      kernel: kit.vmlinux,
      initrd: kit.initramfs,
      vcpus: 2,
      memoryMiB: 256,
      cmdline: `${DEFAULT_CMDLINE} tsvmm.end=poweroff ${guestRunParam(PROBE_SCRIPT)}`,
    });
    expect(console).toContain(GUEST_BOOT_MARKER);
    const { cpus, memTotalKiB } = seen(console);
    expect(cpus).toBe(2);
    // MemTotal is RAM less what the kernel keeps for itself; it cannot exceed what was given
    expect(memTotalKiB).toBeLessThanOrEqual(256 * 1024);
    expect(memTotalKiB).toBeGreaterThan(200 * 1024);
    expect(exit.reason).toBe('poweroff');
  });

  it('the 64-bit entry of the same vmlinux (--boot elf), through the program: reboot -f exits with the reboot status', {
    timeout: BOOT_TIMEOUT_MS,
  }, async () => {
    const kit = await guestKit();
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--kernel',
        kit.vmlinux,
        '--initrd',
        kit.initramfs,
        '--boot',
        'elf',
        '--memory',
        '128',
        '--cmdline',
        `${DEFAULT_CMDLINE} tsvmm.end=reboot ${guestRunParam(PROBE_SCRIPT)}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('latin1');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stdout).toContain(GUEST_BOOT_MARKER);
    const { cpus, memTotalKiB } = seen(stdout);
    expect(cpus).toBe(1);
    expect(memTotalKiB).toBeLessThanOrEqual(128 * 1024);
    expect(memTotalKiB).toBeGreaterThan(90 * 1024);
    expect(stderr.trim()).toBe('reference-vmm: the guest rebooted');
    expect(status).toBe(EXIT_STATUS.reboot);
  });

  it('a bzImage through the 64-bit boot protocol', { timeout: BOOT_TIMEOUT_MS }, async () => {
    const kit = await guestKit();
    const { exit, console } = await bootGuest({
      kernel: kit.bzImage,
      initrd: kit.initramfs,
      cmdline: `${DEFAULT_CMDLINE} tsvmm.end=poweroff ${guestRunParam('uname -m')}`,
    });
    expect(console).toContain(GUEST_BOOT_MARKER);
    expect(parseGuestRun(console)).toEqual({ status: 0, output: 'x86_64' });
    expect(exit.reason).toBe('poweroff');
  });

  it('a kernel panic is reported as a panic (no root file system, no initrd)', {
    timeout: BOOT_TIMEOUT_MS,
  }, async () => {
    const kit = await guestKit();
    const { exit, console } = await bootGuest({ kernel: kit.vmlinux, cmdline: DEFAULT_CMDLINE });
    expect(console).toContain('Kernel panic - not syncing');
    expect(exit.reason).toBe('panic');
  });
});
