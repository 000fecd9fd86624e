/**
 * The shared-memory plumbing the devices of this package have in common.
 *
 * A device's registers live in one SharedArrayBuffer: a header of Int32
 * words (lock, magic, log-once mask), the device's own words, then its byte
 * buffers. Each thread builds its own device object over the same buffer:
 * the first with `new`, the others with `attach(shared)`.
 */
import { SharedLock } from '@tsvmm/vm-device';
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

const LOCK = 0;
const MAGIC = 1;
const LOGGED = 2;
/** The first word a device may use for itself. */
export const FIRST_DEVICE_WORD = 3;

/** The state of one device instance, as seen by one thread. */
export class DeviceState {
  /** The Int32 words (header and device words). */
  readonly words: Int32Array;
  /** The bytes after the words. */
  readonly bytes: Uint8Array;
  /** Guards every word and byte except the metrics (which are atomic). */
  readonly lock: SharedLock;
  readonly #device: string;
  readonly #log: DeviceLog;

  private constructor(device: string, buffer: SharedArrayBuffer, wordCount: number, log: DeviceLog) {
    this.#device = device;
    this.words = new Int32Array(buffer, 0, wordCount);
    this.bytes = new Uint8Array(buffer, wordCount * 4);
    this.lock = new SharedLock(this.words, LOCK);
    this.#log = log;
  }

  /** Fresh, zeroed state with `wordCount` words (header included) and `byteCount` bytes. */
  static create(
    device: string,
    magic: number,
    wordCount: number,
    byteCount: number,
    log: DeviceLog,
  ): DeviceState {
    const state = new DeviceState(device, new SharedArrayBuffer(wordCount * 4 + byteCount), wordCount, log);
    state.words[MAGIC] = magic;
    return state;
  }

  /**
   * The state another thread created.
   * @throws VmSuperioError `BAD_SHARED_STATE` unless `shared` came from the same device class
   */
  static attach(
    shared: SharedDeviceState,
    device: string,
    magic: number,
    wordCount: number,
    byteCount: number,
    log: DeviceLog,
  ): DeviceState {
    const buffer = (shared as Partial<SharedDeviceState> | null)?.buffer;
    if (
      shared?.device !== device ||
      !(buffer instanceof SharedArrayBuffer) ||
      buffer.byteLength !== wordCount * 4 + byteCount ||
      new Int32Array(buffer, 0, FIRST_DEVICE_WORD)[MAGIC] !== magic
    )
      throw new VmSuperioError('BAD_SHARED_STATE', `not the shared state of a ${device}`);
    return new DeviceState(device, buffer, wordCount, log);
  }

  /** What another thread passes to the device's `attach()`. */
  get shared(): SharedDeviceState {
    return { device: this.#device, buffer: this.words.buffer as SharedArrayBuffer };
  }

  /** Logs `message` the first time (on any thread) that `kind` (a bit, 0..31) happens. */
  logOnce(kind: number, message: string): void {
    const bit = 1 << kind;
    if ((Atomics.or(this.words, LOGGED, bit) & bit) === 0)
      this.#log(`${this.#device}: ${message} (logged once)`);
  }

  /** Adds 1 to metrics word `index`. */
  count(index: number, n = 1): void {
    Atomics.add(this.words, index, n);
  }

  /** Reads metrics word `index` (as an unsigned counter). */
  counter(index: number): number {
    return Atomics.load(this.words, index) >>> 0;
  }
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
