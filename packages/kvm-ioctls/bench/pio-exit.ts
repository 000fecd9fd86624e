/**
 * Benchmark: the port-I/O exit round trip. A 64-bit guest in user mode (CPL3)
 * loops on `out %al, $0x80`; every iteration is one exit to user space and
 * one KVM_RUN back. Measured, in the same run and on the same guest (same
 * RAM image and registers):
 *
 * - TS: a VcpuThread whose handler sees each exit on the vCPU's own thread;
 * - C: a small C program (built here with the machine's gcc) doing the same loop;
 * - TS, main thread: each exit handed to the main thread and back (the model not used).
 *
 * Prints the median (and the minimum, which load on the machine inflates least) nanoseconds per exit of
 * each over several repeats, and TS / C: of the medians, and the median of the ratios of C and TS runs
 * made back to back.
 *
 *   node bench/dist/pio-exit.js [--count N] [--warmup N] [--repeats N]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kvm_regs, kvm_sregs, VcpuThread } from '@tsvmm/kvm-ioctls';
import {
  createTestVm,
  enterLongModeUser,
  OUT_LOOP,
  program,
  TestGuestLayout,
} from '@tsvmm/kvm-ioctls/testing';
import type { PioExitData } from './pio-exit-handler.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '1000' },
    repeats: { type: 'string', default: '11' },
  },
});
const count = Number(values.count);
const warmup = Number(values.warmup);
const repeats = Number(values.repeats);

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const buildDir = here('../build'); // bench/build: git-ignored
const guestDir = `${buildDir}/guest`;
const cProgram = `${buildDir}/pio-exit`;
const code = program(OUT_LOOP);

/** A VM running the benchmark guest from its first instruction. */
function guestVm() {
  const t = createTestVm();
  t.ram.set(code, TestGuestLayout.CODE);
  const vcpu = t.vm.createVcpu(0);
  enterLongModeUser(vcpu, t.ram, {
    entry: BigInt(TestGuestLayout.CODE),
    stack: BigInt(TestGuestLayout.STACK_TOP),
  });
  return { t, vcpu };
}

/** Writes the guest's RAM and registers for the C program, and builds it. */
function prepareC(): void {
  mkdirSync(guestDir, { recursive: true });
  const { t, vcpu } = guestVm();
  writeFileSync(`${guestDir}/ram.bin`, t.ram);
  writeFileSync(`${guestDir}/sregs.bin`, kvm_sregs.encode(vcpu.getSregs()));
  writeFileSync(`${guestDir}/regs.bin`, kvm_regs.encode(vcpu.getRegs()));
  vcpu.close();
  t.close();
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', cProgram, here('../pio-exit.c')], {
    stdio: 'inherit',
  });
}

function runC(): number {
  return Number(
    execFileSync(cProgram, [guestDir, String(warmup), String(count)], { encoding: 'utf8' }).trim(),
  );
}

async function runTs(mode: PioExitData['mode']): Promise<number> {
  const { t, vcpu } = guestVm();
  const mailbox = new SharedArrayBuffer(8);
  const data: PioExitData = { mode, warmup, count, mailbox };
  const thread = VcpuThread.start({ vcpu, handler: new URL('./pio-exit-handler.js', import.meta.url), data });
  let finished = false;
  const served = mode === 'main-thread' ? serve(new Int32Array(mailbox), () => finished) : Promise.resolve();
  try {
    const result = await thread.done;
    if (result.kind !== 'HandlerStop' || result.reason !== 'done')
      throw new Error(`benchmark guest: ${JSON.stringify(result)}`);
    return result.detail as number;
  } finally {
    finished = true;
    await served;
    vcpu.close();
    t.close();
  }
}

/** The main thread's side of `main-thread` mode: answer each exit the worker posts. */
async function serve(box: Int32Array, finished: () => boolean): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000); // a pending Atomics.waitAsync does not keep Node alive
  let answered = 0;
  while (!finished()) {
    const wait = Atomics.waitAsync(box, 0, answered, 100);
    if (wait.async) await wait.value;
    const posted = Atomics.load(box, 0);
    if (posted === answered) continue;
    answered = posted;
    Atomics.store(box, 1, answered);
    Atomics.notify(box, 1);
  }
  clearInterval(keepAlive);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;

prepareC();
const samples = { ts: [] as number[], c: [] as number[], hop: [] as number[] };
for (let i = 0; i < repeats; i++) {
  // Alternate the order so that drift in the machine's load hits both sides alike.
  if (i % 2 === 0) {
    samples.c.push(runC());
    samples.ts.push(await runTs('in-place'));
  } else {
    samples.ts.push(await runTs('in-place'));
    samples.c.push(runC());
  }
  samples.hop.push(await runTs('main-thread'));
}
const line = (label: string, xs: number[]) =>
  `  ${label.padEnd(50)} median ${us(median(xs))}/exit  min ${us(Math.min(...xs))}  [${xs.map(us).join(', ')}]`;
const ts = median(samples.ts);
const c = median(samples.c);
const hop = median(samples.hop);
console.log(
  `port-I/O exit round trip, CPL3 guest looping on out, ${count} exits (+${warmup} warm-up), ${repeats} repeats`,
);
console.log(line('TS (VcpuThread, exit handled on the vCPU thread)', samples.ts));
console.log(line('C  (same guest, same loop)', samples.c));
console.log(line('TS, each exit handed to the main thread and back', samples.hop));
// C and TS of one repeat ran back to back, under the same load: the median of their ratios is the
// comparison that drift in the machine's load disturbs least.
const paired = median(samples.ts.map((t, i) => t / samples.c[i]!));
console.log(
  `  ratio TS / C = ${(ts / c).toFixed(3)} (medians; goal <= 1.10), ${paired.toFixed(3)} (median of paired runs), ` +
    `${(Math.min(...samples.ts) / Math.min(...samples.c)).toFixed(3)} (minimums)`,
);
console.log(`  ratio main-thread hop / C = ${(hop / c).toFixed(3)} (medians)`);
