/**
 * The I/O thread's half of the virtio-mmio transport: it serves one
 * {@link VirtioDevice} behind a transport's shared state. It activates the
 * device when the driver set DRIVER_OK (building the queues from the
 * registers the driver wrote), resets it when the driver wrote status 0,
 * forwards queue notifications, and gives the device its interrupt (InterruptStatus
 * bit, then the irqfd) and its live configuration space.
 *
 * What a device throws never leaves the runner: the device enters
 * NEEDS_RESET (§2.1.2), the driver gets a configuration change interrupt,
 * and the device is not called again until the driver resets it.
 */
import { Queue, VIRTIO_RING_F_EVENT_IDX, VirtioQueueError } from '@tsvmm/virtio-queue';
import type { EdgeInterrupt } from '@tsvmm/vm-device';
import type { GuestMemory } from '@tsvmm/vm-memory';
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_MMIO_INT_CONFIG,
  VIRTIO_MMIO_INT_VRING,
} from '../constants.js';
import type {
  VirtioConfigSpace,
  VirtioDevice,
  VirtioEventHandler,
  VirtioEventLoop,
  VirtioInterrupt,
} from '../device.js';
import { VirtioDevicesError } from '../errors.js';
import type { VirtioMmioShared } from './mmio-transport.js';
import { COUNTER, checkDeviceInfo, MmioState, WORD } from './shared-state.js';

/** What a {@link MmioDeviceRunner} needs besides the device and the transport. */
export interface MmioDeviceRunnerOptions {
  /** Guest memory as this thread maps it. */
  memory: GuestMemory;
  /** The device's interrupt line (an irqfd). */
  interrupt: EdgeInterrupt;
  /** Where the device's extra descriptors are waited on (the I/O thread's loop). */
  eventLoop: VirtioEventLoop;
  /** Where the runner reports problems, each message once. */
  log?: (message: string) => void;
}

/** Serves one device on the I/O thread. */
export class MmioDeviceRunner {
  /** The device served. */
  readonly device: VirtioDevice;
  /** The transport's shared state. */
  readonly state: MmioState;
  readonly #memory: GuestMemory;
  readonly #irq: EdgeInterrupt;
  readonly #loop: VirtioEventLoop;
  readonly #log: (message: string) => void;
  readonly #logged = new Set<string>();
  /** Descriptors the device added through its event loop, removed at reset. */
  readonly #fds = new Set<number>();
  #seenResets: number;
  #seenActivations: number;
  #queues: Queue[] | undefined;
  /** The device threw or the driver's queues were invalid: nothing is called until a reset. */
  #broken = false;
  readonly #config: VirtioConfigSpace;

  /**
   * @throws VirtioDevicesError `DEVICE_MISMATCH` if the device is not the one the transport presents;
   *   `BAD_SHARED_STATE` if `transport` is not a transport's shared form.
   */
  constructor(device: VirtioDevice, transport: VirtioMmioShared, options: MmioDeviceRunnerOptions) {
    let info: ReturnType<typeof checkDeviceInfo>;
    try {
      info = checkDeviceInfo(transport.info);
    } catch (e) {
      throw new VirtioDevicesError(
        'BAD_SHARED_STATE',
        `not a virtio-mmio transport: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    const mismatch = deviceMismatch(device, info);
    if (mismatch !== undefined)
      throw new VirtioDevicesError('DEVICE_MISMATCH', `the device does not match its transport: ${mismatch}`);
    this.device = device;
    this.state = new MmioState(info, transport.state);
    this.#memory = options.memory;
    this.#irq = options.interrupt;
    this.#loop = options.eventLoop;
    this.#log = options.log ?? (() => undefined);
    this.#config = liveConfigSpace(this.state);
    // Whatever happened before this runner existed counts as seen; a pending DRIVER_OK is taken by sync().
    this.#seenResets = this.state.load(WORD.resets);
    this.#seenActivations = this.state.load(WORD.activations) - 1;
  }

  /** Whether the device is activated (the driver set DRIVER_OK and nothing failed since). */
  get active(): boolean {
    return this.#queues !== undefined;
  }

  /**
   * Acts on what the driver did since the last call: a reset resets the
   * device, DRIVER_OK activates it. Call when the control eventfd fires.
   */
  sync(): void {
    const s = this.state;
    const resets = s.load(WORD.resets);
    if (resets !== this.#seenResets) {
      this.#seenResets = resets;
      this.#deactivate();
      this.#broken = false;
    }
    const activations = s.load(WORD.activations);
    if (activations !== this.#seenActivations) {
      this.#seenActivations = activations;
      const status = s.load(WORD.status);
      if (
        !this.#broken &&
        this.#queues === undefined &&
        (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 &&
        (status & VIRTIO_CONFIG_S_NEEDS_RESET) === 0
      )
        this.#activate();
    }
  }

  /** Queue `queueIndex`'s notification fired: the device serves it (if activated and the queue is ready). */
  processQueue(queueIndex: number): void {
    // The control eventfd may not have been handled yet (both fds ready in one epoll batch): a reset
    // still stops the device touching the old rings, and a DRIVER_OK does not lose this notification.
    if (
      this.state.load(WORD.resets) !== this.#seenResets ||
      this.state.load(WORD.activations) !== this.#seenActivations
    )
      this.sync();
    const queue = this.#queues?.[queueIndex];
    if (queue === undefined || !queue.ready) return;
    this.#guard(() => this.device.processQueue(queueIndex));
  }

  /** Resets the device if active and releases it (`close()`, if it has one). */
  close(): void {
    this.#deactivate();
    try {
      this.device.close?.();
    } catch (e) {
      this.#logOnce(`closing the device failed: ${(e as Error).message}`);
    }
  }

  #activate(): void {
    const s = this.state;
    const info = s.info;
    let acked: bigint;
    const queues = info.queueMaxSizes.map((max) => new Queue(max));
    s.lock.lock();
    try {
      acked = s.driverFeatures();
      queues.forEach((queue, q) => {
        const r = s.queueRegisters(q);
        queue.setSize(r.size);
        queue.setDescTableAddress(...r.desc);
        queue.setAvailRingAddress(...r.avail);
        queue.setUsedRingAddress(...r.used);
        queue.setReady(r.ready);
      });
    } finally {
      s.lock.unlock();
    }
    const eventIdx = (acked & (1n << BigInt(VIRTIO_RING_F_EVENT_IDX))) !== 0n;
    for (const [q, queue] of queues.entries()) {
      queue.setEventIdx(eventIdx);
      if (!queue.ready) continue;
      try {
        queue.validate(this.#memory);
      } catch (e) {
        if (!(e instanceof VirtioQueueError)) throw e;
        s.count(COUNTER.badQueueConfig);
        this.#fail(`queue ${q} is misconfigured by the driver: ${e.message}`);
        return;
      }
    }
    this.#queues = queues;
    this.#guard(() =>
      this.device.activate({
        memory: this.#memory,
        queues,
        ackedFeatures: acked,
        interrupt: this.#interrupt,
        eventLoop: this.#deviceLoop,
        config: this.#config,
      }),
    );
    // Buffers the driver made available before DRIVER_OK come without a notification (§3.1.1).
    for (const [q, queue] of queues.entries()) {
      if (this.#queues === undefined) return;
      if (queue.ready) this.#guard(() => this.device.processQueue(q));
    }
  }

  #deactivate(): void {
    if (this.#queues === undefined) return;
    this.#queues = undefined;
    try {
      this.device.reset();
    } catch (e) {
      this.#logOnce(`resetting the device failed: ${(e as Error).message}`);
    }
    for (const fd of this.#fds) {
      try {
        this.#loop.remove(fd);
      } catch {
        // the device closed it itself
      }
    }
    this.#fds.clear();
  }

  /** Runs a device method; anything it throws puts the device into NEEDS_RESET. */
  #guard(call: () => void): void {
    try {
      call();
    } catch (e) {
      if (e instanceof VirtioQueueError) {
        // A ring the device cannot go on with (a malformed chain without a head to return).
        this.#fail(`the driver broke a queue (${e.code}): ${e.message}`);
      } else {
        this.state.count(COUNTER.deviceErrors);
        this.#fail(`the device failed: ${(e as Error)?.message ?? String(e)}`);
      }
    }
  }

  /** Enters NEEDS_RESET (§2.1.2): stop the device, tell the driver. */
  #fail(message: string): void {
    this.#logOnce(`${message}; the device needs a reset`);
    this.#deactivate();
    this.#broken = true;
    Atomics.or(this.state.words, WORD.status, VIRTIO_CONFIG_S_NEEDS_RESET);
    this.#raise(VIRTIO_MMIO_INT_CONFIG);
  }

  #raise(bit: number): void {
    Atomics.or(this.state.words, WORD.interrupt, bit);
    this.state.count(COUNTER.interrupts);
    this.#irq.trigger();
  }

  #logOnce(message: string): void {
    if (this.#logged.has(message)) return;
    this.#logged.add(message);
    this.#log(message);
  }

  readonly #interrupt: VirtioInterrupt = {
    signalUsedQueue: () => this.#raise(VIRTIO_MMIO_INT_VRING),
    signalConfigChange: () => this.#raise(VIRTIO_MMIO_INT_CONFIG),
  };

  readonly #deviceLoop: VirtioEventLoop = {
    add: (fd: number, events: number, handler: VirtioEventHandler) => {
      this.#loop.add(fd, events, (ready) => {
        if (this.#queues !== undefined) this.#guard(() => handler(ready));
      });
      this.#fds.add(fd);
    },
    modify: (fd: number, events: number) => this.#loop.modify(fd, events),
    remove: (fd: number) => {
      this.#loop.remove(fd);
      this.#fds.delete(fd);
    },
  };
}

function checkConfigRange(state: MmioState, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0)
    throw new RangeError(`offset and length must be non-negative integers, got ${offset}, ${length}`);
  if (offset + length > state.config.length)
    throw new RangeError(
      `bytes ${offset}..${offset + length} are outside the ${state.config.length}-byte configuration space`,
    );
}

function deviceMismatch(device: VirtioDevice, info: ReturnType<typeof checkDeviceInfo>): string | undefined {
  if (typeof device !== 'object' || device === null) return 'not an object';
  for (const method of ['activate', 'processQueue', 'reset'] as const)
    if (typeof device[method] !== 'function') return `it has no ${method}() method`;
  if (device.deviceType !== info.deviceType)
    return `device type ${device.deviceType}, expected ${info.deviceType}`;
  if (
    !Array.isArray(device.queueMaxSizes) ||
    device.queueMaxSizes.length !== info.queueMaxSizes.length ||
    device.queueMaxSizes.some((size, i) => size !== info.queueMaxSizes[i])
  )
    return `queue sizes [${String(device.queueMaxSizes)}], expected [${info.queueMaxSizes.join(',')}]`;
  if (device.availFeatures !== info.availFeatures)
    return `features 0x${String(device.availFeatures?.toString(16))}, expected 0x${info.availFeatures.toString(16)}`;
  if (!(device.configSpace instanceof Uint8Array) || device.configSpace.length !== info.configSpace.length)
    return `a configuration space of ${device.configSpace?.length} bytes, expected ${info.configSpace.length}`;
  return undefined;
}

/** The configuration space over the shared bytes, with the generation counter kept. */
function liveConfigSpace(state: MmioState): VirtioConfigSpace {
  return {
    length: state.config.length,
    read: (offset: number, length: number) => {
      checkConfigRange(state, offset, length);
      return state.config.slice(offset, offset + length);
    },
    write: (offset: number, data: Uint8Array) => {
      if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
      checkConfigRange(state, offset, data.length);
      // Two increments around the change: a driver that read across it sees the generation move.
      Atomics.add(state.words, WORD.generation, 1);
      state.config.set(data, offset);
      Atomics.add(state.words, WORD.generation, 1);
    },
  };
}
