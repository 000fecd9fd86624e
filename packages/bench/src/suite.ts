/**
 * The benchmark runs. Each repeat runs both VMMs back to back (alternating
 * which goes first, so that drift in the machine's load hits both alike):
 *
 * - the exit loops (port I/O, then MMIO) under the reference VMM, the C
 *   baseline and QEMU, one right after the other (the order rotates);
 * - one boot of the test guest with a disk, a NIC and an rng doing every
 *   device workload (block read, write and random read, rng, net transmit
 *   and receive);
 * - one boot that only idles, for the start-up time (VMM start to the
 *   guest's first output) and the VMM's memory overhead, sampled while the
 *   guest idles.
 *
 * Then, fewer times, the guest kit's Linux on each VMM, timed to its boot
 * marker line.
 */
import { join } from 'node:path';
import { ensureGuestKit } from '@tsvmm/guest-kit';
import {
  createTestNetwork,
  type GuestRun,
  IDLE_LINE,
  runGuest,
  type TestGuestResult,
  type TestNetwork,
  testGuestCmdline,
  type VmmKind,
  writePatternImage,
} from '@tsvmm/test-guest';
import { C_VMM_DONE, runCVmm } from './c-vmm.js';
import { readVmmMemory } from './memory.js';
import { type Side, workValue } from './metrics.js';

/** How much the benchmark does. */
export interface BenchConfig {
  readonly repeats: number;
  readonly bootRepeats: number;
  /** Iterations of each exit loop. */
  readonly exits: number;
  /** Bytes of each sequential block pass (the disk is twice this). */
  readonly blkBytes: number;
  readonly blkRequestBytes: number;
  readonly blkDepth: number;
  readonly randomReads: number;
  readonly netPackets: number;
  readonly rngBytes: number;
  readonly memoryMiB: number;
  /** Where the disk image goes. */
  readonly workDir: string;
}

export const DEFAULT_CONFIG: Omit<BenchConfig, 'workDir'> = {
  repeats: 5,
  bootRepeats: 2,
  exits: 10_000,
  blkBytes: 128 << 20,
  blkRequestBytes: 256 << 10,
  blkDepth: 8,
  randomReads: 8192,
  netPackets: 20_000,
  rngBytes: 16 << 20,
  memoryMiB: 128,
};

export const QUICK_CONFIG: Omit<BenchConfig, 'workDir'> = {
  repeats: 1,
  bootRepeats: 0,
  exits: 1000,
  blkBytes: 8 << 20,
  blkRequestBytes: 256 << 10,
  blkDepth: 8,
  randomReads: 512,
  netPackets: 1000,
  rngBytes: 1 << 20,
  memoryMiB: 128,
};

/** Samples per metric and side, in the metric's unit, in repeat order. */
export type Samples = Record<string, Partial<Record<Side, number[]>>>;

export interface SuiteOutcome {
  readonly samples: Samples;
  /** Runs that did not produce clean results (the benchmark fails if there are any). */
  readonly failures: string[];
}

const WORKLOADS = ['blk-read', 'blk-write', 'blk-rand', 'rng', 'net-tx', 'net-rx'] as const;
const SEED = 0x5eed;

function add(samples: Samples, metric: string, side: Side, value: number): void {
  const bySide = samples[metric] ?? {};
  bySide[side] = [...(bySide[side] ?? []), value];
  samples[metric] = bySide;
}

function describeFailure(who: string, result: TestGuestResult | undefined, console: string): string {
  if (!result) return `${who}: no results line; console ends: ${console.slice(-400)}`;
  const bad = result.results.filter((w) => !w.ok).map((w) => `${w.work}: ${w.note}`);
  return `${who}: status ${result.status}${result.error ? ` (${result.error})` : ''}${bad.length ? `: ${bad.join('; ')}` : ''}`;
}

/** Runs the whole suite; `log` gets a line per run. */
export async function runSuite(config: BenchConfig, log: (line: string) => void): Promise<SuiteOutcome> {
  const samples: Samples = {};
  const failures: string[] = [];
  const disk = join(config.workDir, 'bench-disk.img');
  writePatternImage(disk, 2 * config.blkBytes, SEED);
  const net = await createTestNetwork();
  try {
    const workCmdline = testGuestCmdline({
      work: [...WORKLOADS],
      blk: {
        bytes: config.blkBytes,
        requestBytes: config.blkRequestBytes,
        depth: config.blkDepth,
        seed: SEED,
        writeOffset: config.blkBytes,
        randomReads: config.randomReads,
      },
      net: {
        ip: net.guestIp,
        peer: net.hostIp,
        peerMac: net.hostMac,
        port: net.port,
        packets: config.netPackets,
      },
      rng: { bytes: config.rngBytes },
    });
    const exitsCmdline = testGuestCmdline({ work: ['pio', 'mmio'], exits: config.exits });
    for (let repeat = 0; repeat < config.repeats; repeat++) {
      const sides: Side[] = ['reference', 'c', 'qemu'];
      for (let i = 0; i < repeat % 3; i++) sides.push(sides.shift()!);
      for (const side of sides) {
        const who = `repeat ${repeat + 1}, ${side}`;
        const run =
          side === 'c'
            ? await runCVmm(exitsCmdline, config.memoryMiB)
            : await runGuest({ vmm: side, cmdline: exitsCmdline, memoryMiB: config.memoryMiB });
        const done = side === 'c' ? run.exitCode === C_VMM_DONE : (run as GuestRun).ended === 'done';
        if (!done || run.result?.status !== 'ok')
          failures.push(`${describeFailure(who, run.result, run.console)} ${run.stderr.trim()}`);
        for (const w of run.result?.results ?? []) if (w.ok) add(samples, w.work, side, workValue(w.work, w));
        log(`${who}: exit loops ${done ? 'done' : 'failed'}`);
      }
      const order: VmmKind[] = repeat % 2 === 0 ? ['reference', 'qemu'] : ['qemu', 'reference'];
      for (const vmm of order) {
        const who = `repeat ${repeat + 1}, ${vmm}`;
        const run = await runGuest({
          vmm,
          cmdline: workCmdline,
          ...devicesFor(net, disk, config),
          timeoutMs: 600_000,
        });
        if (run.ended !== 'done' || run.result?.status !== 'ok') {
          const peer = JSON.stringify(await net.peerStats()); // cumulative: sends refused, bad packets
          failures.push(
            `${describeFailure(who, run.result, run.console)} (ended: ${run.ended}; peer: ${peer}) ${run.stderr.trim()}`,
          );
        }
        for (const w of run.result?.results ?? []) if (w.ok) add(samples, w.work, vmm, workValue(w.work, w));
        log(`${who}: device workloads ${run.ended} in ${(run.wallMs / 1000).toFixed(1)} s`);

        const idle = await idleRun(vmm, net, disk, config);
        if (idle.failure) failures.push(`${who}, idle: ${idle.failure}`);
        if (idle.startupMs !== undefined) add(samples, 'startup', vmm, idle.startupMs);
        if (idle.overheadMiB !== undefined) add(samples, 'memory', vmm, idle.overheadMiB);
        log(
          `${who}: start-up ${idle.startupMs?.toFixed(1)} ms, overhead ${idle.overheadMiB?.toFixed(1)} MiB`,
        );
      }
    }
  } finally {
    await net.close();
  }
  if (config.bootRepeats > 0) await linuxBoots(config, samples, failures, log);
  return { samples, failures };
}

function devicesFor(net: TestNetwork, disk: string, config: BenchConfig) {
  return {
    memoryMiB: config.memoryMiB,
    disk: { path: disk },
    rng: true,
    net: { tap: net.tap, mac: net.guestMac },
    netns: net.namespace,
  };
}

/** Boots the guest with every device and samples the VMM's memory while the guest idles. */
async function idleRun(
  vmm: VmmKind,
  net: TestNetwork,
  disk: string,
  config: BenchConfig,
): Promise<{ startupMs?: number; overheadMiB?: number; failure?: string }> {
  let overheadMiB: number | undefined;
  let sampleError: string | undefined;
  const run = await runGuest({
    vmm,
    cmdline: testGuestCmdline({ work: ['idle'], idleMs: 500 }),
    ...devicesFor(net, disk, config),
    onLine: (line, child) => {
      if (line !== IDLE_LINE || child.pid === undefined) return;
      try {
        overheadMiB = readVmmMemory(child.pid, vmm).overheadBytes / (1 << 20);
      } catch (e) {
        sampleError = (e as Error).message;
      }
    },
  });
  const failure =
    run.ended !== 'done' || run.result?.status !== 'ok'
      ? `${describeFailure(vmm, run.result, run.console)} (ended: ${run.ended})`
      : sampleError !== undefined
        ? `memory not sampled: ${sampleError}`
        : undefined;
  return {
    ...(run.firstOutputMs === undefined ? {} : { startupMs: run.firstOutputMs }),
    ...(overheadMiB === undefined ? {} : { overheadMiB }),
    ...(failure === undefined ? {} : { failure }),
  };
}

/** The guest kit's Linux on each VMM, timed from the VMM's start to the boot marker line. */
async function linuxBoots(
  config: BenchConfig,
  samples: Samples,
  failures: string[],
  log: (line: string) => void,
): Promise<void> {
  const kit = await ensureGuestKit({ installPackages: false });
  for (let repeat = 0; repeat < config.bootRepeats; repeat++) {
    const order: VmmKind[] = repeat % 2 === 0 ? ['reference', 'qemu'] : ['qemu', 'reference'];
    for (const vmm of order) {
      let markerMs: number | undefined;
      const run = await runGuest({
        vmm,
        kernel: kit.vmlinux,
        initrd: kit.initramfs,
        cmdline: kit.cmdline,
        memoryMiB: config.memoryMiB,
        timeoutMs: 300_000,
        onLine: (line, child, elapsedMs) => {
          if (markerMs === undefined && line.includes(kit.bootMarker)) {
            markerMs = elapsedMs;
            child.kill('SIGKILL');
          }
        },
      });
      if (markerMs === undefined)
        failures.push(`Linux boot on ${vmm}: no marker (ended: ${run.ended}) ${run.console.slice(-300)}`);
      else add(samples, 'linux-boot', vmm, markerMs / 1000);
      log(
        `Linux boot ${repeat + 1}, ${vmm}: ${markerMs === undefined ? 'no marker' : `${(markerMs / 1000).toFixed(2)} s`}`,
      );
    }
  }
}
