/**
 * The virtio-mmio transport's registers (virtio 1.2 §4.2.2, version 2), as
 * a device on an MMIO bus. Every thread that handles guest MMIO (each vCPU
 * thread) has its own {@link VirtioMmioTransport} over the same shared state;
 * the I/O thread serves the device ({@link MmioDeviceRunner}).
 *
 * Register accesses never wait for the I/O thread: a status write that needs
 * it (DRIVER_OK activates, 0 resets) is recorded in shared state and
 * signalled through the control eventfd the I/O thread polls.
 */
import type { DeviceMmio, MmioAddress } from '@tsvmm/vm-device';
import { RawEventFd } from '@tsvmm/vm-device';
import {
  TSVMM_VENDOR_ID,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_MMIO_MAGIC_VALUE,
  VIRTIO_MMIO_VERSION,
} from '../constants.js';
import type { VirtioDeviceInfo } from '../device.js';
import { VirtioDevicesError } from '../errors.js';
import * as R from './registers.js';
import { COUNTER, checkDeviceInfo, MmioState, QUEUE_WORD, WORD } from './shared-state.js';

/** The structured-clonable form of a transport, for another thread's {@link VirtioMmioTransport.attach}. */
export interface VirtioMmioShared {
  /** The device as the transport presents it. */
  readonly info: VirtioDeviceInfo;
  /** The registers and the configuration space. */
  readonly state: SharedArrayBuffer;
  /**
   * One eventfd per queue: the ioeventfd KVM signals on QueueNotify. A
   * notification that reaches the transport anyway is forwarded to it.
   * Empty: such a notification is counted (`notifyUnrouted`) and goes nowhere.
   */
  readonly notifyFds: readonly number[];
  /** The eventfd the I/O thread polls for activations and resets; none: nothing is signalled. */
  readonly controlFd?: number;
  /** The irqfd the I/O thread writes to interrupt the guest. */
  readonly irqFd?: number;
}

/** Options of {@link VirtioMmioTransport.create}. */
export interface VirtioMmioOptions {
  /** See {@link VirtioMmioShared.notifyFds}; one per queue. */
  notifyFds?: readonly number[];
  /** See {@link VirtioMmioShared.controlFd}. */
  controlFd?: number;
  /** See {@link VirtioMmioShared.irqFd}. */
  irqFd?: number;
}

/** What the transport counted: guest mistakes and events (see `COUNTER` in shared-state.ts). */
export type VirtioMmioCounters = { -readonly [K in keyof typeof COUNTER]: number };

const STATUS_BITS =
  VIRTIO_CONFIG_S_ACKNOWLEDGE |
  VIRTIO_CONFIG_S_DRIVER |
  VIRTIO_CONFIG_S_DRIVER_OK |
  VIRTIO_CONFIG_S_FEATURES_OK |
  VIRTIO_CONFIG_S_NEEDS_RESET |
  VIRTIO_CONFIG_S_FAILED;
const ALL_ONES = 0xffff_ffff;

function checkFd(fd: unknown, what: string): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff)
    throw new TypeError(`${what} must be a file descriptor number, got ${String(fd)}`);
  return fd;
}

/** The virtio-mmio registers of one device, viewed from one thread. */
export class VirtioMmioTransport implements DeviceMmio {
  /** The shared state this view works on. */
  readonly state: MmioState;
  readonly #shared: VirtioMmioShared;
  readonly #notify: readonly (RawEventFd | undefined)[];
  readonly #control: RawEventFd | undefined;

  private constructor(shared: VirtioMmioShared, state: MmioState) {
    this.#shared = shared;
    this.state = state;
    this.#notify = state.info.queueMaxSizes.map((_, q) => {
      const fd = shared.notifyFds[q];
      return fd === undefined ? undefined : new RawEventFd(fd);
    });
    this.#control = shared.controlFd === undefined ? undefined : new RawEventFd(shared.controlFd);
  }

  /**
   * A new transport for a device described by `info`, at its reset state.
   * @throws TypeError/RangeError for a bad `info` or descriptor.
   */
  static create(info: VirtioDeviceInfo, options: VirtioMmioOptions = {}): VirtioMmioTransport {
    const checked = checkDeviceInfo(info);
    const notifyFds = (options.notifyFds ?? []).map((fd, q) => checkFd(fd, `notifyFds[${q}]`));
    if (notifyFds.length !== 0 && notifyFds.length !== checked.queueMaxSizes.length)
      throw new RangeError(
        `notifyFds must have one eventfd per queue (${checked.queueMaxSizes.length}), got ${notifyFds.length}`,
      );
    const shared: VirtioMmioShared = {
      info: checked,
      state: MmioState.allocate(checked),
      notifyFds,
      ...(options.controlFd === undefined ? {} : { controlFd: checkFd(options.controlFd, 'controlFd') }),
      ...(options.irqFd === undefined ? {} : { irqFd: checkFd(options.irqFd, 'irqFd') }),
    };
    return new VirtioMmioTransport(shared, new MmioState(checked, shared.state));
  }

  /**
   * This thread's view of a transport another thread created.
   * @throws VirtioDevicesError `BAD_SHARED_STATE` if `shared` is not a transport's shared form.
   */
  static attach(shared: VirtioMmioShared): VirtioMmioTransport {
    let info: VirtioDeviceInfo;
    try {
      if (typeof shared !== 'object' || shared === null || !Array.isArray(shared.notifyFds))
        throw new TypeError('not an object with notifyFds');
      info = checkDeviceInfo(shared.info);
      for (const [q, fd] of shared.notifyFds.entries()) checkFd(fd, `notifyFds[${q}]`);
      if (shared.controlFd !== undefined) checkFd(shared.controlFd, 'controlFd');
      if (shared.irqFd !== undefined) checkFd(shared.irqFd, 'irqFd');
    } catch (e) {
      throw new VirtioDevicesError(
        'BAD_SHARED_STATE',
        `not a virtio-mmio transport: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    return new VirtioMmioTransport(shared, new MmioState(info, shared.state));
  }

  /** What another thread passes to {@link VirtioMmioTransport.attach}. */
  get shared(): VirtioMmioShared {
    return this.#shared;
  }

  /** The device this transport presents. */
  get info(): VirtioDeviceInfo {
    return this.state.info;
  }

  /** The device status as the driver last set it (with NEEDS_RESET if the device set it). */
  get status(): number {
    return this.state.load(WORD.status);
  }

  /** The counters, summed over every thread. */
  counters(): VirtioMmioCounters {
    const out = {} as VirtioMmioCounters;
    for (const [name, word] of Object.entries(COUNTER))
      out[name as keyof VirtioMmioCounters] = this.state.load(word);
    return out;
  }

  /** {@link DeviceMmio.mmioRead}: `offset` is the register offset in the window. */
  mmioRead(_base: MmioAddress, offset: number, data: Uint8Array): void {
    this.read(offset, data);
  }

  /** {@link DeviceMmio.mmioWrite}. */
  mmioWrite(_base: MmioAddress, offset: number, data: Uint8Array): void {
    this.write(offset, data);
  }

  /**
   * A driver load of `data.length` bytes at `offset` in the window. Never
   * throws for what the guest does: a bad access reads zeros and is counted.
   */
  read(offset: number, data: Uint8Array): void {
    const s = this.state;
    if (offset >= R.VIRTIO_MMIO_CONFIG) {
      this.#readConfig(offset - R.VIRTIO_MMIO_CONFIG, data);
      return;
    }
    data.fill(0);
    if (data.length !== 4 || offset % 4 !== 0) {
      s.count(COUNTER.badAccess);
      return;
    }
    const value = this.#readRegister(offset);
    if (value === undefined) {
      s.count(COUNTER.badRegister);
      return;
    }
    data[0] = value & 0xff;
    data[1] = (value >>> 8) & 0xff;
    data[2] = (value >>> 16) & 0xff;
    data[3] = value >>> 24;
  }

  /** A driver store of `data` at `offset` in the window. Never throws for what the guest does. */
  write(offset: number, data: Uint8Array): void {
    const s = this.state;
    if (offset >= R.VIRTIO_MMIO_CONFIG) {
      // No device here has a driver-writable configuration field.
      s.count(COUNTER.badConfigAccess);
      return;
    }
    if (data.length !== 4 || offset % 4 !== 0) {
      s.count(COUNTER.badAccess);
      return;
    }
    const value = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
    if (offset === R.VIRTIO_MMIO_QUEUE_NOTIFY) {
      this.#notifyQueue(value);
      return;
    }
    if (offset === R.VIRTIO_MMIO_INTERRUPT_ACK) {
      Atomics.and(s.words, WORD.interrupt, ~value);
      return;
    }
    s.lock.lock();
    let signal = false;
    try {
      signal = this.#writeRegister(offset, value);
    } finally {
      s.lock.unlock();
    }
    if (signal) this.#control?.write(1);
  }

  #readRegister(offset: number): number | undefined {
    const s = this.state;
    const info = s.info;
    switch (offset) {
      case R.VIRTIO_MMIO_MAGIC_VALUE_OFFSET:
        return VIRTIO_MMIO_MAGIC_VALUE;
      case R.VIRTIO_MMIO_VERSION_OFFSET:
        return VIRTIO_MMIO_VERSION;
      case R.VIRTIO_MMIO_DEVICE_ID:
        return info.deviceType;
      case R.VIRTIO_MMIO_VENDOR_ID:
        return TSVMM_VENDOR_ID;
      case R.VIRTIO_MMIO_DEVICE_FEATURES: {
        const sel = s.load(WORD.deviceFeaturesSel) >>> 0;
        return sel > 1 ? 0 : Number((info.availFeatures >> BigInt(32 * sel)) & 0xffff_ffffn);
      }
      case R.VIRTIO_MMIO_QUEUE_NUM_MAX: {
        const q = s.load(WORD.queueSel) >>> 0;
        return info.queueMaxSizes[q] ?? 0;
      }
      case R.VIRTIO_MMIO_QUEUE_READY: {
        const q = s.load(WORD.queueSel) >>> 0;
        return q < info.queueMaxSizes.length ? s.load(s.queueWord(q, QUEUE_WORD.ready)) : 0;
      }
      case R.VIRTIO_MMIO_INTERRUPT_STATUS:
        return s.load(WORD.interrupt);
      case R.VIRTIO_MMIO_STATUS:
        return s.load(WORD.status);
      case R.VIRTIO_MMIO_SHM_LEN_LOW:
      case R.VIRTIO_MMIO_SHM_LEN_HIGH:
      case R.VIRTIO_MMIO_SHM_BASE_LOW:
      case R.VIRTIO_MMIO_SHM_BASE_HIGH:
        return ALL_ONES; // no shared memory regions: length -1 (§4.2.2)
      case R.VIRTIO_MMIO_QUEUE_RESET:
        return 0; // VIRTIO_F_RING_RESET is never offered
      case R.VIRTIO_MMIO_CONFIG_GENERATION:
        return s.load(WORD.generation);
      default:
        return undefined;
    }
  }

  /** Applies a register write (lock held). Returns whether the I/O thread must look. */
  #writeRegister(offset: number, value: number): boolean {
    const s = this.state;
    const status = s.load(WORD.status);
    const queueSetup =
      (status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 &&
      (status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED)) === 0;
    switch (offset) {
      case R.VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        s.store(WORD.deviceFeaturesSel, value);
        return false;
      case R.VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        s.store(WORD.driverFeaturesSel, value);
        return false;
      case R.VIRTIO_MMIO_DRIVER_FEATURES: {
        // Features are accepted between DRIVER and FEATURES_OK (§3.1.1).
        if ((status & VIRTIO_CONFIG_S_DRIVER) === 0 || (status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
          s.count(COUNTER.badWrite);
          return false;
        }
        const sel = s.load(WORD.driverFeaturesSel) >>> 0;
        if (sel === 0) s.store(WORD.driverFeaturesLow, value);
        else if (sel === 1) s.store(WORD.driverFeaturesHigh, value);
        else if (value !== 0) s.store(WORD.driverFeaturesBeyond, 1);
        return false;
      }
      case R.VIRTIO_MMIO_QUEUE_SEL:
        s.store(WORD.queueSel, value);
        return false;
      case R.VIRTIO_MMIO_QUEUE_NUM:
      case R.VIRTIO_MMIO_QUEUE_DESC_LOW:
      case R.VIRTIO_MMIO_QUEUE_DESC_HIGH:
      case R.VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      case R.VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      case R.VIRTIO_MMIO_QUEUE_USED_LOW:
      case R.VIRTIO_MMIO_QUEUE_USED_HIGH:
      case R.VIRTIO_MMIO_QUEUE_READY:
        this.#writeQueue(offset, value, queueSetup, status);
        return false;
      case R.VIRTIO_MMIO_STATUS:
        return this.#writeStatus(status, value);
      case R.VIRTIO_MMIO_SHM_SEL:
        s.store(WORD.shmSel, value);
        return false;
      default:
        s.count(COUNTER.badRegister);
        return false;
    }
  }

  #writeQueue(offset: number, value: number, queueSetup: boolean, status: number): void {
    const s = this.state;
    const q = s.load(WORD.queueSel) >>> 0;
    if (q >= s.info.queueMaxSizes.length) {
      s.count(COUNTER.badWrite);
      return;
    }
    const readyWord = s.queueWord(q, QUEUE_WORD.ready);
    const ready = s.load(readyWord) !== 0;
    if (offset === R.VIRTIO_MMIO_QUEUE_READY) {
      // Disabling is allowed until DRIVER_OK (Linux does it while tearing queues down);
      // enabling only during queue setup.
      const allowed = value === 0 ? (status & VIRTIO_CONFIG_S_DRIVER_OK) === 0 : queueSetup;
      if (!allowed || value > 1) s.count(COUNTER.badWrite);
      else s.store(readyWord, value);
      return;
    }
    // The queue's configuration may change only during setup and while the queue is not ready.
    if (!queueSetup || ready) {
      s.count(COUNTER.badWrite);
      return;
    }
    const field = {
      [R.VIRTIO_MMIO_QUEUE_NUM]: QUEUE_WORD.size,
      [R.VIRTIO_MMIO_QUEUE_DESC_LOW]: QUEUE_WORD.descLow,
      [R.VIRTIO_MMIO_QUEUE_DESC_HIGH]: QUEUE_WORD.descHigh,
      [R.VIRTIO_MMIO_QUEUE_AVAIL_LOW]: QUEUE_WORD.availLow,
      [R.VIRTIO_MMIO_QUEUE_AVAIL_HIGH]: QUEUE_WORD.availHigh,
      [R.VIRTIO_MMIO_QUEUE_USED_LOW]: QUEUE_WORD.usedLow,
      [R.VIRTIO_MMIO_QUEUE_USED_HIGH]: QUEUE_WORD.usedHigh,
    }[offset]!;
    s.store(s.queueWord(q, field), value);
  }

  /**
   * The status state machine (§2.1, §3.1.1). 0 resets. Otherwise bits are
   * only added, each after the one it depends on (DRIVER after ACKNOWLEDGE,
   * FEATURES_OK after DRIVER, DRIVER_OK after FEATURES_OK); FAILED any time;
   * NEEDS_RESET is the device's and the driver cannot change it.
   * FEATURES_OK is kept only if the driver accepted nothing the device did
   * not offer and accepted VIRTIO_F_VERSION_1; otherwise it reads back clear.
   */
  #writeStatus(old: number, value: number): boolean {
    const s = this.state;
    if (value === 0) {
      s.resetRegisters();
      Atomics.add(s.words, WORD.resets, 1);
      return true;
    }
    const next = (value & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    const added = next & ~old;
    const ok =
      (value & ~STATUS_BITS) === 0 &&
      (old & ~next) === 0 &&
      ((next & VIRTIO_CONFIG_S_DRIVER) === 0 || (next & VIRTIO_CONFIG_S_ACKNOWLEDGE) !== 0) &&
      ((next & VIRTIO_CONFIG_S_FEATURES_OK) === 0 || (next & VIRTIO_CONFIG_S_DRIVER) !== 0) &&
      ((next & VIRTIO_CONFIG_S_DRIVER_OK) === 0 || (next & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) &&
      ((added & VIRTIO_CONFIG_S_DRIVER_OK) === 0 || (old & VIRTIO_CONFIG_S_FEATURES_OK) !== 0);
    if (!ok) {
      s.count(COUNTER.badStatus);
      return false;
    }
    let stored = next;
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 && !this.#featuresAcceptable()) {
      stored &= ~VIRTIO_CONFIG_S_FEATURES_OK;
      s.count(COUNTER.badStatus);
    }
    s.store(WORD.status, stored);
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (stored & VIRTIO_CONFIG_S_FAILED) === 0) {
      Atomics.add(s.words, WORD.activations, 1);
      return true;
    }
    return false;
  }

  #featuresAcceptable(): boolean {
    const s = this.state;
    const acked = s.driverFeatures();
    return (
      s.load(WORD.driverFeaturesBeyond) === 0 &&
      (acked & ~s.info.availFeatures) === 0n &&
      (acked & (1n << BigInt(VIRTIO_F_VERSION_1))) !== 0n
    );
  }

  #notifyQueue(value: number): void {
    const s = this.state;
    if (value >= s.info.queueMaxSizes.length) {
      s.count(COUNTER.badNotify);
      return;
    }
    const fd = this.#notify[value];
    if (fd === undefined) {
      s.count(COUNTER.notifyUnrouted);
      return;
    }
    s.count(COUNTER.notifyForwarded);
    fd.write(1);
  }

  #readConfig(offset: number, data: Uint8Array): void {
    const s = this.state;
    const size = data.length;
    if ((size !== 1 && size !== 2 && size !== 4 && size !== 8) || offset + size > s.config.length) {
      data.fill(0);
      s.count(COUNTER.badConfigAccess);
      return;
    }
    // Bytes copied as they are: the space is little-endian, as is the guest.
    data.set(s.config.subarray(offset, offset + size));
  }
}
