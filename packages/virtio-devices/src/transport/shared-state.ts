/**
 * The virtio-mmio transport's state in shared memory: one SharedArrayBuffer
 * per device, which every vCPU thread (register accesses) and the I/O thread
 * (activation, interrupts, configuration changes) view.
 *
 * Layout, in Int32 words (every word accessed with `Atomics`), followed by
 * the configuration space bytes:
 *
 * | word               | what                                                                  |
 * | ------------------ | --------------------------------------------------------------------- |
 * | 0 `status`         | the device status the driver reads                                    |
 * | 1, 2               | DeviceFeaturesSel, DriverFeaturesSel                                  |
 * | 3, 4               | the driver's accepted features, low and high 32 bits                  |
 * | 5 `queueSel`       | QueueSel                                                              |
 * | 6 `interrupt`      | InterruptStatus (bits set by the I/O thread, cleared by InterruptACK) |
 * | 7 `generation`     | ConfigGeneration                                                      |
 * | 8 `resets`         | incremented by a vCPU on each reset                                   |
 * | 9 `activations`    | incremented by a vCPU when the driver sets DRIVER_OK                  |
 * | 10 `lock`          | a `SharedLock` over multi-word register updates                       |
 * | 11 `shmSel`        | SHMSel                                                                |
 * | 12                 | nonzero if the driver accepted a feature above bit 63 (never offered) |
 * | 16..31             | counters ({@link COUNTER})                                            |
 * | 32 + 8·q ..        | queue q: size, ready, desc lo/hi, avail lo/hi, used lo/hi             |
 * | then, in bytes     | the configuration space                                               |
 */
import { VIRTQ_MAX_SIZE } from '@tsvmm/virtio-queue';
import { SharedLock } from '@tsvmm/vm-device';
import { VIRTIO_F_VERSION_1 } from '../constants.js';
import type { VirtioDeviceInfo } from '../device.js';
import { VirtioDevicesError } from '../errors.js';
import { VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_WINDOW_SIZE } from './registers.js';

/** Word indexes of the transport's scalar state. */
export const WORD = {
  status: 0,
  deviceFeaturesSel: 1,
  driverFeaturesSel: 2,
  driverFeaturesLow: 3,
  driverFeaturesHigh: 4,
  queueSel: 5,
  interrupt: 6,
  generation: 7,
  resets: 8,
  activations: 9,
  lock: 10,
  shmSel: 11,
  driverFeaturesBeyond: 12,
} as const;

/** Word indexes of the counters the transport keeps (guest mistakes are counted, never fatal). */
export const COUNTER = {
  /** An access of the wrong size or alignment for the register. */
  badAccess: 16,
  /** A read of a write-only or unknown register, or a write of a read-only or unknown one. */
  badRegister: 17,
  /** A configuration space access outside the space, or a write to it. */
  badConfigAccess: 18,
  /** A status write the state machine refused (or FEATURES_OK refused for unoffered features). */
  badStatus: 19,
  /** A feature, queue or selector write refused in the current state. */
  badWrite: 20,
  /** A QueueNotify with a value that names no queue. */
  badNotify: 21,
  /** A QueueNotify that reached the transport (no ioeventfd took it) and was forwarded. */
  notifyForwarded: 22,
  /** Errors thrown by the device on the I/O thread (each sets NEEDS_RESET). */
  deviceErrors: 23,
  /** Activations refused because a ready queue's configuration is invalid (sets NEEDS_RESET). */
  badQueueConfig: 24,
  /** Interrupts injected. */
  interrupts: 25,
  /** A QueueNotify for a real queue that reached a transport without notify eventfds. */
  notifyUnrouted: 26,
} as const;

/** The first word of the queue blocks. */
export const QUEUE_BASE_WORD = 32;
/** Words per queue. */
export const QUEUE_WORDS = 8;
/** Word offsets inside a queue block. */
export const QUEUE_WORD = {
  size: 0,
  ready: 1,
  descLow: 2,
  descHigh: 3,
  availLow: 4,
  availHigh: 5,
  usedLow: 6,
  usedHigh: 7,
} as const;

/** The most queues a device may have here (the Linux virtio-mmio driver handles any number). */
export const MAX_QUEUES = 1024;
/** The largest configuration space that fits in a 4 KiB window. */
export const MAX_CONFIG_SIZE = VIRTIO_MMIO_WINDOW_SIZE - VIRTIO_MMIO_CONFIG;

/** The byte offset of the configuration space in the shared buffer of a device with `queueCount` queues. */
export function configOffset(queueCount: number): number {
  return (QUEUE_BASE_WORD + QUEUE_WORDS * queueCount) * 4;
}

/**
 * Checks a {@link VirtioDeviceInfo} (it may come from another thread or a
 * user) and returns a frozen copy.
 * @throws TypeError or RangeError naming the bad field.
 */
export function checkDeviceInfo(info: VirtioDeviceInfo): VirtioDeviceInfo {
  if (typeof info !== 'object' || info === null) throw new TypeError('info must be an object');
  const { deviceType, queueMaxSizes, availFeatures, configSpace } = info;
  if (!Number.isInteger(deviceType) || deviceType < 1 || deviceType > 0xffff_ffff)
    throw new RangeError(`deviceType must be a u32 above 0, got ${String(deviceType)}`);
  if (!Array.isArray(queueMaxSizes) || queueMaxSizes.length < 1 || queueMaxSizes.length > MAX_QUEUES)
    throw new RangeError(`queueMaxSizes must list 1..${MAX_QUEUES} queue sizes`);
  for (const size of queueMaxSizes) {
    if (!Number.isInteger(size) || size < 1 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) !== 0)
      throw new RangeError(`a queue max size must be a power of two in 1..${VIRTQ_MAX_SIZE}, got ${size}`);
  }
  if (typeof availFeatures !== 'bigint' || availFeatures < 0n || availFeatures >= 1n << 64n)
    throw new RangeError('availFeatures must be a u64 bigint');
  if ((availFeatures & (1n << BigInt(VIRTIO_F_VERSION_1))) === 0n)
    throw new RangeError('availFeatures must include VIRTIO_F_VERSION_1 (the transport is virtio 1.x only)');
  if (!(configSpace instanceof Uint8Array) || configSpace.length > MAX_CONFIG_SIZE)
    throw new RangeError(`configSpace must be a Uint8Array of at most ${MAX_CONFIG_SIZE} bytes`);
  return Object.freeze({
    deviceType,
    queueMaxSizes: Object.freeze([...queueMaxSizes]),
    availFeatures,
    configSpace: configSpace.slice(),
  });
}

/** A configuration of one queue as the driver wrote it. */
export interface QueueRegisters {
  size: number;
  ready: boolean;
  desc: [low: number, high: number];
  avail: [low: number, high: number];
  used: [low: number, high: number];
}

/**
 * One thread's view of a transport's shared state: typed access to the
 * words, the queue blocks, the configuration bytes and the lock.
 */
export class MmioState {
  /** The device this state belongs to. */
  readonly info: VirtioDeviceInfo;
  /** The shared buffer. */
  readonly buffer: SharedArrayBuffer;
  /** The words. */
  readonly words: Int32Array;
  /** The configuration space bytes. */
  readonly config: Uint8Array;
  /** A little-endian view of the configuration space. */
  readonly configView: DataView;
  /** Guards multi-word updates (register writes, activation snapshots). */
  readonly lock: SharedLock;

  /** Views `buffer` (from {@link MmioState.allocate}) for a device described by `info` (already checked). */
  constructor(info: VirtioDeviceInfo, buffer: SharedArrayBuffer) {
    const offset = configOffset(info.queueMaxSizes.length);
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== offset + info.configSpace.length)
      throw new VirtioDevicesError(
        'BAD_SHARED_STATE',
        'the shared state does not match the device (queue count or configuration size)',
      );
    this.info = info;
    this.buffer = buffer;
    this.words = new Int32Array(buffer, 0, offset / 4);
    this.config = new Uint8Array(buffer, offset, info.configSpace.length);
    this.configView = new DataView(buffer, offset, info.configSpace.length);
    this.lock = new SharedLock(this.words, WORD.lock);
  }

  /** A new shared buffer for `info`, with every queue at its reset state and the initial configuration. */
  static allocate(info: VirtioDeviceInfo): SharedArrayBuffer {
    const offset = configOffset(info.queueMaxSizes.length);
    const buffer = new SharedArrayBuffer(offset + info.configSpace.length);
    new Uint8Array(buffer, offset).set(info.configSpace);
    const state = new MmioState(info, buffer);
    state.resetRegisters();
    return buffer;
  }

  /** Loads a word. */
  load(word: number): number {
    return Atomics.load(this.words, word);
  }

  /** Stores a word. */
  store(word: number, value: number): void {
    Atomics.store(this.words, word, value);
  }

  /** Adds one to a counter. */
  count(counter: number): void {
    Atomics.add(this.words, counter, 1);
  }

  /** The word index of field `field` of queue `queue`. */
  queueWord(queue: number, field: number): number {
    return QUEUE_BASE_WORD + QUEUE_WORDS * queue + field;
  }

  /** The driver's accepted features (bits 0..63). */
  driverFeatures(): bigint {
    const low = BigInt(this.load(WORD.driverFeaturesLow) >>> 0);
    const high = BigInt(this.load(WORD.driverFeaturesHigh) >>> 0);
    return (high << 32n) | low;
  }

  /** Reads queue `queue`'s registers. Call with the lock held for a consistent snapshot. */
  queueRegisters(queue: number): QueueRegisters {
    const w = (field: number) => this.load(this.queueWord(queue, field)) >>> 0;
    return {
      size: w(QUEUE_WORD.size),
      ready: w(QUEUE_WORD.ready) !== 0,
      desc: [w(QUEUE_WORD.descLow), w(QUEUE_WORD.descHigh)],
      avail: [w(QUEUE_WORD.availLow), w(QUEUE_WORD.availHigh)],
      used: [w(QUEUE_WORD.usedLow), w(QUEUE_WORD.usedHigh)],
    };
  }

  /**
   * Puts every driver-written register back to its reset value (virtio 1.2
   * §4.2.2.1): status, selectors, features, queues, interrupt status. The
   * counters, the configuration space and its generation survive.
   */
  resetRegisters(): void {
    for (const word of [
      WORD.status,
      WORD.deviceFeaturesSel,
      WORD.driverFeaturesSel,
      WORD.driverFeaturesLow,
      WORD.driverFeaturesHigh,
      WORD.queueSel,
      WORD.interrupt,
      WORD.shmSel,
      WORD.driverFeaturesBeyond,
    ])
      this.store(word, 0);
    this.info.queueMaxSizes.forEach((max, q) => {
      for (let field = 0; field < QUEUE_WORDS; field++) this.store(this.queueWord(q, field), 0);
      this.store(this.queueWord(q, QUEUE_WORD.size), max);
    });
  }
}
