/**
 * The entry of a vCPU worker thread (started by `VcpuThread.start`): maps the
 * vCPU's `kvm_run`, loads the handler module, and runs `KVM_RUN` in a loop,
 * handing every exit to the handler on this thread, until the handler or the
 * main thread stops it. Runs as compiled JavaScript from dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { currentThread } from '@tsvmm/vmm-sys-util';
import { KvmError } from './errors.js';
import { VcpuFd } from './vcpu.js';
import {
  CONTROL,
  type ExitHandler,
  type VcpuContext,
  type VcpuThreadResult,
  type VcpuWorkerData,
} from './vcpu-handler.js';

async function main(input: VcpuWorkerData): Promise<VcpuThreadResult> {
  const control = new Int32Array(input.control, 0, 4);
  const pthread = new BigUint64Array(input.control, CONTROL.pthreadByte, 1);
  const stopRequested = (): boolean => Atomics.load(control, CONTROL.stop) !== 0;
  const vcpu = VcpuFd.fromRawFd(input.fd, { id: input.id, mmapSize: input.mmapSize });
  try {
    const mod = (await import(input.handler)) as { setup?: unknown };
    if (typeof mod.setup !== 'function')
      throw new KvmError('VCPU_HANDLER_INVALID', `${input.handler} does not export a setup function`);
    const context: VcpuContext = { vcpu, data: input.data, stopRequested };
    const handle = (await mod.setup(context)) as ExitHandler;
    if (typeof handle !== 'function')
      throw new KvmError(
        'VCPU_HANDLER_INVALID',
        `setup() of ${input.handler} did not return an exit handler`,
      );

    // Clear a stop left by an earlier thread first, then publish this thread, then look at the stop
    // flag: a stop() that raced with startup either sees the thread and kicks it, or is seen below.
    vcpu.setImmediateExit(false);
    const me = currentThread();
    Atomics.store(control, CONTROL.tid, me.tid);
    Atomics.store(pthread, 0, me.pthread);
    Atomics.store(control, CONTROL.state, CONTROL.running);
    parentPort!.postMessage({ type: 'ready', thread: me });

    let exits = 0;
    for (;;) {
      if (stopRequested()) return { kind: 'Stopped', exits };
      const exit = vcpu.run();
      if (exit.kind === 'Intr' && stopRequested()) return { kind: 'Stopped', exits };
      exits++;
      const action = handle(exit);
      if (action !== undefined)
        return { kind: 'HandlerStop', reason: action.stop, detail: action.detail, exits };
    }
  } finally {
    Atomics.store(control, CONTROL.state, CONTROL.ended);
    vcpu.close(); // unmaps this thread's view; the main thread owns the fd and clears immediate_exit
  }
}

const result = await main(workerData as VcpuWorkerData);
parentPort!.postMessage({ type: 'done', result });
