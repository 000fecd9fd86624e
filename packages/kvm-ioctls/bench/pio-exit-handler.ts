/**
 * The vCPU handler of the port-I/O exit benchmark (loaded in the vCPU's
 * worker). Mode `in-place`: each exit is handled here, on the thread that ran
 * KVM_RUN, as a VMM built on VcpuThread does. Mode `main-thread`: each exit is
 * handed to the main thread and this thread waits for its answer, the model
 * this project does not use, measured to show why.
 */
import type { ExitHandler, VcpuContext } from '@tsvmm/kvm-ioctls';

/** What the benchmark passes to the handler. */
export interface PioExitData {
  readonly mode: 'in-place' | 'main-thread';
  readonly warmup: number;
  readonly count: number;
  /** For `main-thread`: [0] exit sequence number the worker posted, [1] the last one the main thread answered. */
  readonly mailbox: SharedArrayBuffer;
}

export function setup({ data }: VcpuContext<PioExitData>): ExitHandler {
  const mailbox = new Int32Array(data.mailbox);
  const total = data.warmup + data.count;
  let exits = 0;
  let start = 0n;
  return (exit) => {
    if (exit.kind !== 'IoOut' || exit.port !== 0x80) return { stop: 'unexpected', detail: exit.kind };
    if (data.mode === 'main-thread') {
      // Post the exit and wait until the main thread has handled it.
      Atomics.store(mailbox, 0, exits + 1);
      Atomics.notify(mailbox, 0);
      Atomics.wait(mailbox, 1, exits);
    }
    exits++;
    if (exits === data.warmup) start = process.hrtime.bigint();
    if (exits === total) {
      const ns = Number(process.hrtime.bigint() - start) / data.count;
      return { stop: 'done', detail: ns };
    }
    return undefined;
  };
}
