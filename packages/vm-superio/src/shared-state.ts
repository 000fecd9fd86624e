/**
 * The shared-memory plumbing the devices of this package have in common.
 *
 * A device's registers live in one SharedArrayBuffer: a header of Int32
 * words (lock, magic, log-once mask, ignored-access counter), the device's own words, then its byte
 * buffers. Each thread builds its own device object over the same buffer:
 * the first with `new`, the others with `attach(shared)`.
 */
import { type DevicePio, type PioAddress, SharedLock } from '@tsvmm/vm-device';
import { VmSuperioError } from './errors.js';

/** The structured-clonable form of a device's state, passed to another thread. */
export interface SharedDeviceState {
  /** Which device class the state belongs to. */
  readonly device: string;
  /** The registers, FIFOs and metrics. */
  readonly buffer: SharedArrayBuffer;
}

/** Receives the one-time warnings about bad guest accesses. */
export type DeviceLog = (message: string) => void;

/** Where a device class keeps what in its shared buffer. */
export interface DeviceLayout {
  /** The device class's name, in shared descriptors and log lines. */
  readonly device: string;
  /** A number stored in the buffer that `attach()` checks. */
  readonly magic: number;
  /** Int32 words, the common header included. */
  readonly words: number;
  /** Bytes after the words. */
  readonly bytes: number;
}

const LOCK = 0;
const MAGIC = 1;
const LOGGED = 2;
const INVALID = 3;
/** The first word a device may use for itself. */
export const FIRST_DEVICE_WORD = 4;
/** The logOnce kind of an access of a size other than one byte; devices number theirs from 1. */
export const BAD_SIZE = 0;

/** The state of one device instance, as seen by one thread. */
export class DeviceState {
  /** The Int32 words (header and device words). */
  readonly words: Int32Array;
  /** The bytes after the words. */
  readonly bytes: Uint8Array;
  /** Guards every word and byte except the counters (which are atomic). */
  readonly lock: SharedLock;
  readonly #device: string;
  readonly #log: DeviceLog;

  /**
   * Fresh, zeroed state when `shared` is undefined, else the state another thread created.
   * @throws VmSuperioError `BAD_SHARED_STATE` unless `shared` came from a device with this layout
   */
  constructor(layout: DeviceLayout, log: DeviceLog, shared?: SharedDeviceState) {
    const size = layout.words * 4 + layout.bytes;
    let buffer: SharedArrayBuffer;
    if (shared === undefined) {
      buffer = new SharedArrayBuffer(size);
      new Int32Array(buffer, 0, FIRST_DEVICE_WORD)[MAGIC] = layout.magic;
    } else {
      const b = (shared as Partial<SharedDeviceState> | null)?.buffer;
      if (
        shared?.device !== layout.device ||
        !(b instanceof SharedArrayBuffer) ||
        b.byteLength !== size ||
        new Int32Array(b, 0, FIRST_DEVICE_WORD)[MAGIC] !== layout.magic
      )
        throw new VmSuperioError('BAD_SHARED_STATE', `not the shared state of a ${layout.device}`);
      buffer = b;
    }
    this.#device = layout.device;
    this.words = new Int32Array(buffer, 0, layout.words);
    this.bytes = new Uint8Array(buffer, layout.words * 4);
    this.lock = new SharedLock(this.words, LOCK);
    this.#log = log;
  }

  /** What another thread passes to the device's `attach()`. */
  get shared(): SharedDeviceState {
    return { device: this.#device, buffer: this.words.buffer as SharedArrayBuffer };
  }

  /** Guest accesses ignored so far, on all threads. */
  get invalidAccesses(): number {
    return this.counter(INVALID);
  }

  /**
   * Counts an ignored guest access and logs the first of its `kind` (a bit,
   * 0..31; {@link BAD_SIZE} is 0) on any thread.
   */
  invalid(kind: number, what: string): void {
    Atomics.add(this.words, INVALID, 1);
    const bit = 1 << kind;
    if ((Atomics.or(this.words, LOGGED, bit) & bit) === 0)
      this.#log(`${this.#device}: ignored guest ${what} (logged once)`);
  }

  /** Adds `n` to counter word `index`. */
  count(index: number, n = 1): void {
    Atomics.add(this.words, index, n);
  }

  /** Reads counter word `index` (as an unsigned number). */
  counter(index: number): number {
    return Atomics.load(this.words, index) >>> 0;
  }
}

/**
 * What the devices of this package share: state in shared memory, the
 * `shared` descriptor, and byte-wide port registers (any other access size
 * is counted, logged once and ignored; such reads give all ones).
 */
export abstract class SharedPortDevice implements DevicePio {
  /** This thread's view of the device's shared state. */
  protected readonly state: DeviceState;

  /** See {@link DeviceState}'s constructor. */
  protected constructor(
    layout: DeviceLayout,
    log: DeviceLog | undefined,
    shared: SharedDeviceState | undefined,
  ) {
    if (log !== undefined) assertFunction(log, 'log');
    this.state = new DeviceState(layout, log ?? console.warn, shared);
  }

  /** The structured-clonable state to pass to the device's `attach()` in another thread. */
  get shared(): SharedDeviceState {
    return this.state.shared;
  }

  /** A guest `in` from port `base + offset`. */
  pioRead(base: PioAddress, offset: number, data: Uint8Array): void {
    if (data.length === 1) data[0] = this.readPort(base, offset);
    else {
      this.state.invalid(BAD_SIZE, `${data.length}-byte read at 0x${base.toString(16)}+${offset}`);
      data.fill(0xff);
    }
  }

  /** A guest `out` to port `base + offset`. */
  pioWrite(base: PioAddress, offset: number, data: Uint8Array): void {
    if (data.length === 1) this.writePort(base, offset, data[0]!);
    else this.state.invalid(BAD_SIZE, `${data.length}-byte write at 0x${base.toString(16)}+${offset}`);
  }

  /** A one-byte read of register `offset` of the range at `base`. */
  protected abstract readPort(base: PioAddress, offset: number): number;
  /** A one-byte write of register `offset` of the range at `base`. */
  protected abstract writePort(base: PioAddress, offset: number, value: number): void;
}

/** Throws `TypeError` unless `fn` is a function. */
export function assertFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${what} must be a function`);
}

/** Throws `TypeError` unless `irq` has a `trigger()` method. */
export function assertEdgeInterrupt(irq: unknown, what: string): void {
  if (typeof (irq as { trigger?: unknown } | null)?.trigger !== 'function')
    throw new TypeError(`${what} must be an EdgeInterrupt (with trigger())`);
}
