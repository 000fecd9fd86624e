/**
 * Runs a guest (the test guest by default) under the reference VMM or under
 * QEMU microvm, as separate processes started the same way, and says how it
 * ended. Both get the same devices and the same command line; each VMM adds
 * its own `virtio_mmio.device=` words.
 *
 * QEMU runs as `-M microvm,acpi=off -enable-kvm -cpu host,-arch-capabilities`
 * with modern virtio-mmio (`-global virtio-mmio.force-legacy=false`; QEMU's
 * default is the legacy version 1 transport), an isa-debug-exit device at
 * port 0xf4 (the test guest's "done"), `-no-reboot`, and its RAM from a memfd
 * (`memory-backend-memfd`), as the reference VMM's is, so that both VMMs'
 * guest RAM is the same kind of mapping.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EXIT_STATUS } from '@tsvmm/reference-vmm';
import { testGuestPath } from './build.js';
import { TestGuestError } from './errors.js';
import { parseTestGuestResult, type TestGuestResult } from './result.js';

/** Which VMM runs the guest. */
export type VmmKind = 'reference' | 'qemu';

/** The reference VMM's program. */
export const REFERENCE_VMM_BIN: string = join(
  dirname(createRequire(import.meta.url).resolve('@tsvmm/reference-vmm/package.json')),
  'bin',
  'reference-vmm.js',
);
/** QEMU's program (Debian's qemu-system-x86). */
export const QEMU_BIN = 'qemu-system-x86_64';
/** The port and value of QEMU's isa-debug-exit the test guest writes when done, and QEMU's exit status then. */
export const DEBUG_EXIT = { port: 0xf4, value: 0x10, qemuStatus: (0x10 << 1) | 1 } as const;

/** The exit status each VMM ends with when the test guest finished on purpose (see end.h in the guest). */
export const DONE_STATUS: Record<VmmKind, number> = {
  reference: EXIT_STATUS.reboot, // the i8042 reset line
  qemu: DEBUG_EXIT.qemuStatus, // isa-debug-exit
};
/** The exit status each VMM ends with after a triple fault (a crash, or the guest's last resort). */
export const SHUTDOWN_STATUS: Record<VmmKind, number> = {
  reference: EXIT_STATUS.shutdown,
  qemu: 0, // -no-reboot turns the reset after a triple fault into an exit
};

/** What a run gives the guest. */
export interface GuestRunOptions {
  readonly vmm: VmmKind;
  /** The kernel image (default: the test guest, built if needed). */
  readonly kernel?: string;
  readonly initrd?: string;
  /** The guest's command line (the VMM appends its devices). */
  readonly cmdline: string;
  /** Guest RAM (default 128 MiB). */
  readonly memoryMiB?: number;
  /** A virtio-blk disk from a raw image. */
  readonly disk?: { readonly path: string; readonly readOnly?: boolean; readonly serial?: string };
  /** A virtio-net device on an existing TAP device (in `netns` when given). */
  readonly net?: { readonly tap: string; readonly mac: string };
  /** A virtio-rng device. */
  readonly rng?: boolean;
  /** Run the VMM inside this network namespace (`ip netns exec`), where its TAP device is. */
  readonly netns?: string;
  /** The QEMU program (default `qemu-system-x86_64` from the PATH). */
  readonly qemu?: string;
  /** More arguments for the VMM program, after the ones the run makes (QEMU: later options win). */
  readonly extraArgs?: readonly string[];
  /** Kill the VMM after this long (default 120 s). */
  readonly timeoutMs?: number;
  /**
   * Called with each complete console line as it arrives (without the line
   * end), the VMM's process, and the milliseconds since it was started.
   */
  readonly onLine?: (line: string, child: ChildProcess, elapsedMs: number) => void;
}

/** How a run ended. */
export type GuestRunEnd =
  /** The guest ended on purpose ({@link DONE_STATUS}). */
  | 'done'
  /** A triple fault: a crash or, when the VMM ignored both of the guest's ways to end, its last resort. */
  | 'shutdown'
  /** Killed at the time limit. */
  | 'timeout'
  /** Any other exit status or signal (the VMM failed). */
  | 'other';

/** What a run produced. */
export interface GuestRun {
  readonly vmm: VmmKind;
  /** The program and its arguments. */
  readonly command: readonly string[];
  readonly ended: GuestRunEnd;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The guest's console (the VMM's stdout). */
  readonly console: string;
  /** The VMM's own messages. */
  readonly stderr: string;
  /** The guest's results line, when it printed one. */
  readonly result: TestGuestResult | undefined;
  /** Milliseconds from starting the VMM process to the first console byte (the guest's entry line). */
  readonly firstOutputMs: number | undefined;
  /** Milliseconds from starting the VMM process to its exit. */
  readonly wallMs: number;
}

function memory(options: GuestRunOptions): number {
  const m = options.memoryMiB ?? 128;
  if (!Number.isSafeInteger(m) || m < 16 || m > 3072)
    throw new RangeError(`memoryMiB must be 16 to 3072, got ${m}`);
  return m;
}

/** The reference VMM's arguments for a run (after `node <bin>`). */
export function referenceVmmArgs(options: GuestRunOptions): string[] {
  const args = ['--kernel', options.kernel ?? testGuestPath(), '--memory', String(memory(options))];
  if (options.initrd !== undefined) args.push('--initrd', options.initrd);
  args.push('--cmdline', options.cmdline);
  const d = options.disk;
  if (d)
    args.push(
      '--disk',
      [d.path, ...(d.readOnly ? ['ro'] : []), ...(d.serial ? [`id=${d.serial}`] : [])].join(','),
    );
  if (options.net) args.push('--net', `tap=${options.net.tap},mac=${options.net.mac}`);
  if (options.rng) args.push('--rng');
  return args;
}

/** QEMU's arguments for a run. */
export function qemuArgs(options: GuestRunOptions): string[] {
  const m = memory(options);
  const args = [
    ...['-M', 'microvm,acpi=off,memory-backend=ram', '-enable-kvm', '-cpu', 'host,-arch-capabilities'],
    ...['-m', `${m}M`, '-object', `memory-backend-memfd,id=ram,size=${m}M`],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot'],
    ...['-global', 'virtio-mmio.force-legacy=false'],
    ...['-device', `isa-debug-exit,iobase=0x${DEBUG_EXIT.port.toString(16)},iosize=4`],
    ...['-kernel', options.kernel ?? testGuestPath(), '-append', options.cmdline],
  ];
  if (options.initrd !== undefined) args.push('-initrd', options.initrd);
  const d = options.disk;
  if (d) {
    args.push('-drive', `id=disk0,file=${d.path},format=raw,if=none${d.readOnly ? ',readonly=on' : ''}`);
    args.push('-device', `virtio-blk-device,drive=disk0${d.serial ? `,serial=${d.serial}` : ''}`);
  }
  if (options.net) {
    args.push('-netdev', `tap,id=net0,ifname=${options.net.tap},script=no,downscript=no`);
    args.push('-device', `virtio-net-device,netdev=net0,mac=${options.net.mac}`);
  }
  if (options.rng) args.push('-device', 'virtio-rng-device');
  return args;
}

/** The full command for a run: program first. */
export function vmmCommand(options: GuestRunOptions): string[] {
  const command =
    options.vmm === 'qemu'
      ? [options.qemu ?? QEMU_BIN, ...qemuArgs(options)]
      : [process.execPath, REFERENCE_VMM_BIN, ...referenceVmmArgs(options)];
  command.push(...(options.extraArgs ?? []));
  return options.netns === undefined ? command : ['ip', 'netns', 'exec', options.netns, ...command];
}

function endOf(vmm: VmmKind, code: number | null, timedOut: boolean): GuestRunEnd {
  if (timedOut) return 'timeout';
  if (code === DONE_STATUS[vmm]) return 'done';
  if (code === SHUTDOWN_STATUS[vmm]) return 'shutdown';
  return 'other';
}

/**
 * Runs a guest to its end and returns its console, its results line and how
 * it ended. Never throws for what the guest or the VMM did (see `ended`).
 * @throws TestGuestError `SPAWN_FAILED` when the VMM cannot be started.
 */
export function runGuest(options: GuestRunOptions): Promise<GuestRun> {
  if (options.vmm !== 'reference' && options.vmm !== 'qemu')
    throw new RangeError(`vmm must be 'reference' or 'qemu', got ${JSON.stringify(options.vmm)}`);
  if (typeof options.cmdline !== 'string') throw new TypeError('cmdline must be a string');
  const command = vmmCommand(options);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let stderr = '';
    let firstOutputMs: number | undefined;
    let pending = '';
    let timedOut = false;
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
      firstOutputMs ??= performance.now() - started;
      consoleText += chunk;
      if (!options.onLine) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      const elapsed = performance.now() - started;
      for (const line of lines) options.onLine(line.replace(/\r$/, ''), child, elapsed);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new TestGuestError('SPAWN_FAILED', `cannot start ${command[0]}: ${e.message}`, { cause: e }));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        vmm: options.vmm,
        command,
        ended: endOf(options.vmm, exitCode, timedOut),
        exitCode,
        signal,
        console: consoleText,
        stderr,
        result: parseTestGuestResult(consoleText),
        firstOutputMs,
        wallMs: performance.now() - started,
      });
    });
  });
}
