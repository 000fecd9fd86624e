/**
 * `VcpuThread`: runs one vCPU on a worker thread of its own, so that
 * `KVM_RUN` never blocks the thread that runs Node's event loop.
 *
 * The worker maps the vCPU's `kvm_run` itself (file descriptors and mappings
 * are process-wide), loads a handler module, and handles every exit on its
 * own thread: no exit crosses threads. `stop()` sets `immediate_exit` in the
 * vCPU's `kvm_run`, raises a stop flag the loop checks, and kicks the thread
 * with a signal so that a blocked `KVM_RUN` returns EINTR.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { kickThread, type ThreadHandle } from '@tsvmm/vmm-sys-util';
import { KvmError } from './errors.js';
import { busyError, isRunningElsewhere, setRunningElsewhere, VcpuFd } from './vcpu.js';
import { CONTROL, type VcpuThreadResult, type VcpuWorkerData } from './vcpu-handler.js';

/**
 * The worker's entry: the compiled vcpu-worker.js next to this module. When
 * this module is itself loaded from source (vitest), the built file in dist/.
 */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? '../dist/vcpu-worker.js' : './vcpu-worker.js',
  import.meta.url,
);

/** What {@link VcpuThread.start} needs. */
export interface VcpuThreadOptions<D = unknown> {
  /** The vCPU to run; while the thread runs, this object refuses ioctls (`VCPU_BUSY`). */
  readonly vcpu: VcpuFd;
  /** The handler module: a `file:` URL or an absolute path of an ES module exporting `setup` (compiled JS). */
  readonly handler: URL | string;
  /** Handed to `setup` (structured clone: share state through SharedArrayBuffers and guest addresses). */
  readonly data?: D;
  /** The worker's name, for diagnostics. */
  readonly name?: string;
}

/** A vCPU running on its own worker thread. */
export class VcpuThread {
  /** The vCPU being run. */
  readonly vcpu: VcpuFd;
  /** The worker thread. */
  readonly worker: Worker;
  /** Resolves with how the loop ended, once the worker has exited; rejects (`VCPU_THREAD_FAILED`) if it failed. */
  readonly done: Promise<VcpuThreadResult>;
  /** Resolves with the worker's OS thread once it is about to enter the guest. */
  readonly ready: Promise<ThreadHandle>;
  readonly #control: Int32Array;
  readonly #pthread: BigUint64Array;
  #exited = false;

  private constructor(options: VcpuThreadOptions) {
    const { vcpu } = options;
    const handler = handlerUrl(options.handler);
    const shared = new SharedArrayBuffer(CONTROL.bytes);
    this.vcpu = vcpu;
    this.#control = new Int32Array(shared, 0, 4);
    this.#pthread = new BigUint64Array(shared, CONTROL.pthreadByte, 1);
    const workerData: VcpuWorkerData = {
      fd: vcpu.fd,
      id: vcpu.id,
      mmapSize: vcpu.mmapSize,
      handler,
      data: options.data,
      control: shared,
    };
    this.worker = new Worker(WORKER_URL, {
      workerData,
      ...(options.name === undefined ? {} : { name: options.name }),
    });
    setRunningElsewhere(vcpu, true);

    let result: VcpuThreadResult | undefined;
    let failure: unknown;
    let onReady!: (thread: ThreadHandle) => void;
    this.ready = new Promise<ThreadHandle>((resolve) => {
      onReady = resolve;
    });
    this.done = new Promise<VcpuThreadResult>((resolve, reject) => {
      this.worker.on(
        'message',
        (message: { type: string; thread?: ThreadHandle; result?: VcpuThreadResult }) => {
          if (message.type === 'ready') onReady(message.thread!);
          else if (message.type === 'done') result = message.result;
        },
      );
      this.worker.on('error', (err) => {
        failure ??= err;
      });
      this.worker.on('exit', (code) => {
        this.#exited = true;
        setRunningElsewhere(vcpu, false);
        if (!vcpu.closed) vcpu.setImmediateExit(false);
        if (result !== undefined) resolve(result);
        else
          reject(
            new KvmError(
              'VCPU_THREAD_FAILED',
              `vCPU ${vcpu.id} thread failed${failure instanceof Error ? `: ${failure.message}` : ` (exit code ${code})`}`,
              { cause: failure },
            ),
          );
      });
    });
    // `ready` never settles on failure; `done` reports it.
  }

  /**
   * Starts a worker that runs `options.vcpu` with the exit handler the
   * handler module's `setup` returns. Throws `VCPU_BUSY` if another thread runs the vCPU already.
   */
  static start<D>(options: VcpuThreadOptions<D>): VcpuThread {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (!(options.vcpu instanceof VcpuFd)) throw new TypeError('options.vcpu must be a VcpuFd');
    if (isRunningElsewhere(options.vcpu)) throw busyError('VcpuThread.start');
    return new VcpuThread(options as VcpuThreadOptions);
  }

  /** The worker's OS thread, once it is running the vCPU. */
  get thread(): ThreadHandle | undefined {
    const pthread = Atomics.load(this.#pthread, 0);
    if (pthread === 0n) return undefined;
    return { pthread, tid: Atomics.load(this.#control, CONTROL.tid) };
  }

  /** Whether the worker has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Asks the loop to end and interrupts a `KVM_RUN` in progress; returns
   * {@link VcpuThread.done}. An exit already being handled is finished first.
   */
  stop(): Promise<VcpuThreadResult> {
    if (!this.#exited) {
      Atomics.store(this.#control, CONTROL.stop, 1);
      this.vcpu.setImmediateExit(true);
      // The thread cannot have been joined while 'exit' has not been emitted, so its pthread is valid.
      const thread = this.thread;
      if (thread !== undefined && Atomics.load(this.#control, CONTROL.state) === CONTROL.running)
        kickThread(thread);
    }
    return this.done;
  }
}

function handlerUrl(handler: URL | string): string {
  if (handler instanceof URL) {
    if (handler.protocol !== 'file:') throw new TypeError('handler must be a file: URL');
    return handler.href;
  }
  if (typeof handler !== 'string') throw new TypeError('handler must be a URL or an absolute path');
  if (handler.startsWith('file:')) return new URL(handler).href;
  if (!isAbsolute(handler)) throw new TypeError(`handler must be an absolute path, got ${handler}`);
  return pathToFileURL(handler).href;
}
