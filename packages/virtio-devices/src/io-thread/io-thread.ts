/**
 * `IoThread`: the VMM's one I/O worker thread, which hosts every virtio
 * device. The main thread creates it (and with it the control eventfd the
 * transports signal), adds the devices, starts it with the VM and stops it
 * with the VM. Its failure is reported through {@link IoThread.done}, never
 * as a hang.
 */
import { Worker } from 'node:worker_threads';
import type { GuestMemory } from '@tsvmm/vm-memory';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import type { VirtioDeviceSpec } from '../device.js';
import { VirtioDevicesError } from '../errors.js';
import type { VirtioMmioShared } from '../transport/mmio-transport.js';
import { builtModuleUrl } from './module-url.js';
import {
  IO_CONTROL,
  type IoThreadDevice,
  type IoThreadMessage,
  type IoThreadWorkerData,
} from './protocol.js';

const WORKER_URL = new URL(builtModuleUrl('./worker.js', import.meta.url));

/** Options of {@link IoThread}. */
export interface IoThreadOptions {
  /** Guest memory: a `GuestMemoryMmap` (memfd or anonymous) or a shared `GuestMemoryArrayBuffer`. */
  memory: GuestMemory & { toDescriptor(): IoThreadWorkerData['memory'] };
  /** Where the worker's messages about devices go (each is a line of text); default stderr. */
  log?: (message: string) => void;
  /** How long {@link IoThread.stop} waits for the loop to end before terminating the worker; default 10 s. */
  stopTimeoutMs?: number;
}

/** The I/O worker thread and its control eventfd. */
export class IoThread {
  /** The eventfd the transports signal (pass it as `controlFd` to `VirtioMmioTransport.create`). */
  readonly control: EventFd;
  readonly #memory: IoThreadOptions['memory'];
  readonly #log: (message: string) => void;
  readonly #stopTimeoutMs: number;
  readonly #devices: IoThreadDevice[] = [];
  readonly #words = new Int32Array(new SharedArrayBuffer(IO_CONTROL.words * 4));
  #worker: Worker | undefined;
  #done: Promise<void> | undefined;
  #exited = false;
  #closed = false;

  constructor(options: IoThreadOptions) {
    if (typeof options?.memory?.toDescriptor !== 'function')
      throw new TypeError('options.memory must be a GuestMemoryMmap or a shared GuestMemoryArrayBuffer');
    const timeout = options.stopTimeoutMs ?? 10_000;
    if (!Number.isInteger(timeout) || timeout < 0)
      throw new RangeError('stopTimeoutMs must be a whole number');
    this.#memory = options.memory;
    this.#log = options.log ?? ((m) => process.stderr.write(`io-thread: ${m}\n`));
    this.#stopTimeoutMs = timeout;
    this.control = new EventFd(0, EFD_NONBLOCK);
  }

  /** The control eventfd's number. */
  get controlFd(): number {
    return this.control.fd;
  }

  /**
   * Adds a device, built on the worker from `spec`, served behind `transport`.
   * @throws VirtioDevicesError `IO_THREAD_STATE` once started.
   */
  addDevice(spec: VirtioDeviceSpec, transport: VirtioMmioShared): void {
    if (this.#worker !== undefined || this.#closed)
      throw new VirtioDevicesError('IO_THREAD_STATE', 'devices are added before the I/O thread starts');
    if (typeof spec?.module !== 'string' || typeof spec.factory !== 'string')
      throw new TypeError('spec must have a module URL and a factory name');
    if (transport?.irqFd === undefined || transport.controlFd !== this.control.fd)
      throw new TypeError('the transport needs an irqFd and this I/O thread’s controlFd');
    this.#devices.push({ spec, transport });
  }

  /** Loop wake-ups so far (each epoll wait that returned), for diagnostics and benchmarks. */
  get wakeups(): number {
    return Atomics.load(this.#words, IO_CONTROL.wakeups);
  }

  /**
   * Starts the worker. Resolves once every device is built and the loop
   * runs; rejects with the worker's failure (`DEVICE_FACTORY`,
   * `DEVICE_MISMATCH`, `IO_THREAD_FAILED`, ...).
   * @throws VirtioDevicesError `IO_THREAD_STATE` if already started.
   */
  start(): Promise<void> {
    if (this.#worker !== undefined || this.#closed)
      throw new VirtioDevicesError('IO_THREAD_STATE', 'the I/O thread was already started');
    const workerData: IoThreadWorkerData = {
      memory: this.#memory.toDescriptor(),
      controlFd: this.control.fd,
      control: this.#words.buffer as SharedArrayBuffer,
      devices: this.#devices,
    };
    const worker = new Worker(WORKER_URL, { workerData, name: 'virtio-io' });
    this.#worker = worker;
    let onReady!: () => void;
    let onFailed!: (e: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    });
    let failure: VirtioDevicesError | undefined;
    let finished = false;
    worker.on('message', (m: IoThreadMessage) => {
      if (m.type === 'ready') onReady();
      else if (m.type === 'log') this.#log(m.message);
      else if (m.type === 'done') finished = true;
      else if (m.type === 'failed') {
        failure ??= new VirtioDevicesError(m.code, `I/O thread: ${m.message}`, {
          cause: m.stack === undefined ? undefined : Object.assign(new Error(m.message), { stack: m.stack }),
        });
      }
    });
    worker.on('error', (e) => {
      failure ??= new VirtioDevicesError('IO_THREAD_FAILED', `I/O thread failed: ${e.message}`, { cause: e });
    });
    this.#done = new Promise<void>((resolve, reject) => {
      worker.on('exit', (code) => {
        this.#exited = true;
        if (finished && failure === undefined) {
          resolve();
          return;
        }
        const err =
          failure ??
          new VirtioDevicesError(
            'IO_THREAD_FAILED',
            `the I/O thread exited (code ${code}) without finishing`,
          );
        onFailed(err);
        reject(err);
      });
    });
    // A failure before 'ready' rejects start(); done then rejects too, which the caller may not await.
    this.#done.catch(() => undefined);
    return ready;
  }

  /**
   * Settles when the worker has exited: resolves after a clean {@link stop},
   * rejects with `IO_THREAD_FAILED` (or the failure's code) otherwise.
   * @throws VirtioDevicesError `IO_THREAD_STATE` before {@link start}.
   */
  get done(): Promise<void> {
    if (this.#done === undefined)
      throw new VirtioDevicesError('IO_THREAD_STATE', 'the I/O thread was not started');
    return this.#done;
  }

  /** Whether the worker has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Asks the loop to end (devices are reset and closed on the worker) and
   * waits for it; terminates the worker if it has not ended within the stop
   * timeout. Resolves when the worker has exited; rejects like {@link done}.
   */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined || this.#exited) return this.#done;
    Atomics.store(this.#words, IO_CONTROL.stop, 1);
    this.control.write(1);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#stopTimeoutMs);
    });
    const settled = this.#done!.then(
      () => 'exited' as const,
      () => 'exited' as const,
    );
    const how = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (how === 'timeout') await worker.terminate();
    return this.#done;
  }

  /** Closes the control eventfd. Call after the worker has exited (or if it never started). */
  close(): void {
    if (this.#closed) return;
    if (this.#worker !== undefined && !this.#exited)
      throw new VirtioDevicesError('IO_THREAD_STATE', 'stop the I/O thread before closing it');
    this.#closed = true;
    this.control.close();
  }
}
