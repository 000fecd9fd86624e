/**
 * The device-facing virtqueue interface, and the configuration state every
 * queue has: what a transport (virtio-mmio, PCI) writes on the driver's
 * behalf before it sets the queue ready.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { VIRTQ_MAX_SIZE } from './constants.js';
import type { DescriptorChain } from './descriptor-chain.js';
import { VirtioQueueError } from './errors.js';

/**
 * A virtqueue as a device sees it, split (§2.7) or packed (§2.8).
 *
 * Device loop:
 * ```ts
 * for (const chain of queue.iter(mem)) {
 *   const n = handle(chain.reader(), chain.writer());
 *   queue.addUsed(mem, chain.headIndex, n);
 * }
 * if (queue.needsNotification(mem)) interrupt.trigger();
 * ```
 * Everything read from the rings is validated; what a driver gets wrong is
 * thrown as a `VirtioQueueError` (a malformed chain names its `headIndex`
 * and is already consumed, so the device can return it as used and go on,
 * or reset).
 */
export interface VirtQueue {
  /** The largest size the device offers (`QueueNumMax`). */
  readonly maxSize: number;
  /** The size the driver chose (`QueueNum`); checked by `validate`. */
  readonly size: number;
  /** Whether the driver set the queue ready (`QueueReady`). */
  readonly ready: boolean;
  /** Descriptor area (split: descriptor table; packed: descriptor ring). */
  readonly descTable: bigint;
  /** Driver area (split: available ring; packed: driver event suppression). */
  readonly availRing: bigint;
  /** Device area (split: used ring; packed: device event suppression). */
  readonly usedRing: bigint;
  /** Whether VIRTIO_RING_F_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** The device's next available position (split: a free-running u16 index; packed: a ring slot). */
  readonly nextAvail: number;
  /** The device's next used position (split: a free-running u16 index; packed: a ring slot). */
  readonly nextUsed: number;

  /** Stores the driver's queue size; any value, checked later by `validate`. */
  setSize(size: number): void;
  /** Stores the driver's ready bit. */
  setReady(ready: boolean): void;
  /** Sets the low and/or high 32 bits of the descriptor area address. */
  setDescTableAddress(low?: number, high?: number): void;
  /** Sets the low and/or high 32 bits of the driver area address. */
  setAvailRingAddress(low?: number, high?: number): void;
  /** Sets the low and/or high 32 bits of the device area address. */
  setUsedRingAddress(low?: number, high?: number): void;
  /** Records whether VIRTIO_RING_F_EVENT_IDX was negotiated. */
  setEventIdx(enabled: boolean): void;
  /** Back to the state after construction (device reset). */
  reset(): void;

  /**
   * Checks every rule the queue's configuration must meet (ready; size;
   * area alignments; areas inside `mem`).
   * @throws VirtioQueueError `QUEUE_NOT_READY`, `INVALID_SIZE`, `MISALIGNED_AREA` or `AREA_OUT_OF_MEMORY`.
   */
  validate(mem: GuestMemory): void;
  /** `validate` as a boolean. */
  isValid(mem: GuestMemory): boolean;

  /** Takes the next available chain, or returns undefined if the driver has made none available. */
  popDescriptorChain(mem: GuestMemory): DescriptorChain | undefined;
  /** Pops chains until none is available. */
  iter(mem: GuestMemory): IterableIterator<DescriptorChain>;
  /** Puts the last popped chain back, e.g. when a backend cannot take it yet. Only one step. */
  undoPop(): void;
  /**
   * Returns a chain to the driver, with `len` bytes written into its
   * writable buffers, and publishes it (a release store of the used index).
   * @throws VirtioQueueError `INVALID_USED_ID` for an id that no popped chain had; RangeError if `len` is not a u32.
   */
  addUsed(mem: GuestMemory, headIndex: number, len: number): void;
  /**
   * Whether the driver wants an interrupt for what was added since the last
   * call (EVENT_IDX `used_event` with wrapping arithmetic, or the
   * NO_INTERRUPT flag).
   */
  needsNotification(mem: GuestMemory): boolean;
  /**
   * Asks the driver to notify on new buffers. Returns true if buffers arrived
   * meanwhile, so that the device processes again before sleeping.
   */
  enableNotification(mem: GuestMemory): boolean;
  /** Asks the driver not to notify (a hint it may ignore). */
  disableNotification(mem: GuestMemory): void;
}

/** Replaces the low or high 32 bits of a 64-bit address. */
function setHalves(current: bigint, low: number | undefined, high: number | undefined): bigint {
  let v = current;
  for (const [half, shift] of [
    [low, 0n],
    [high, 32n],
  ] as const) {
    if (half === undefined) continue;
    if (!Number.isInteger(half) || half < 0 || half > 0xffffffff) {
      throw new RangeError(`an address half must be a u32, got ${half}`);
    }
    v = (v & ~(0xffffffffn << shift)) | (BigInt(half) << shift);
  }
  return v;
}

/** Queue configuration shared by the split and the packed queue. @internal */
export abstract class QueueConfig {
  readonly maxSize: number;
  #size: number;
  #ready = false;
  #desc = 0n;
  #avail = 0n;
  #used = 0n;
  #eventIdx = false;
  /** The memory the current configuration was last validated against; any change clears it. */
  #validFor: GuestMemory | undefined;

  /**
   * @param maxSize - the largest size offered, 1..32768 (a power of two when `powerOfTwo`).
   * @throws RangeError otherwise.
   */
  constructor(maxSize: number, powerOfTwo: boolean) {
    if (
      !Number.isInteger(maxSize) ||
      maxSize < 1 ||
      maxSize > VIRTQ_MAX_SIZE ||
      (powerOfTwo && (maxSize & (maxSize - 1)) !== 0)
    ) {
      throw new RangeError(
        `maxSize must be ${powerOfTwo ? 'a power of two ' : ''}in 1..${VIRTQ_MAX_SIZE}, got ${maxSize}`,
      );
    }
    this.maxSize = maxSize;
    this.#size = maxSize;
  }

  get size(): number {
    return this.#size;
  }
  get ready(): boolean {
    return this.#ready;
  }
  get descTable(): bigint {
    return this.#desc;
  }
  get availRing(): bigint {
    return this.#avail;
  }
  get usedRing(): bigint {
    return this.#used;
  }
  get eventIdx(): boolean {
    return this.#eventIdx;
  }

  setSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff)
      throw new RangeError(`size must be a u32, got ${size}`);
    this.#size = size;
    this.#validFor = undefined;
  }
  setReady(ready: boolean): void {
    this.#ready = ready;
    this.#validFor = undefined;
  }
  setDescTableAddress(low?: number, high?: number): void {
    this.#desc = setHalves(this.#desc, low, high);
    this.#validFor = undefined;
  }
  setAvailRingAddress(low?: number, high?: number): void {
    this.#avail = setHalves(this.#avail, low, high);
    this.#validFor = undefined;
  }
  setUsedRingAddress(low?: number, high?: number): void {
    this.#used = setHalves(this.#used, low, high);
    this.#validFor = undefined;
  }
  setEventIdx(enabled: boolean): void {
    this.#eventIdx = enabled;
  }

  /** Clears the configuration (subclasses clear their ring state too). */
  reset(): void {
    this.#size = this.maxSize;
    this.#ready = false;
    this.#desc = 0n;
    this.#avail = 0n;
    this.#used = 0n;
    this.#eventIdx = false;
    this.#validFor = undefined;
  }

  /** Whether `size` is acceptable for this layout (besides being 1..maxSize). */
  protected abstract sizeAllowed(size: number): boolean;
  /** The three areas: [address, length, alignment, name]. */
  protected abstract areas(): Array<[bigint, number, number, string]>;

  validate(mem: GuestMemory): void {
    this.#validFor = undefined;
    if (!this.#ready) throw new VirtioQueueError('QUEUE_NOT_READY', 'the queue is not ready');
    const size = this.#size;
    if (size < 1 || size > this.maxSize || !this.sizeAllowed(size)) {
      throw new VirtioQueueError('INVALID_SIZE', `queue size ${size} is not allowed (max ${this.maxSize})`);
    }
    for (const [addr, length, align, name] of this.areas()) {
      if (addr % BigInt(align) !== 0n) {
        throw new VirtioQueueError(
          'MISALIGNED_AREA',
          `${name} at 0x${addr.toString(16)} is not ${align}-byte aligned`,
        );
      }
      if (!mem.checkRange(addr, length)) {
        throw new VirtioQueueError(
          'AREA_OUT_OF_MEMORY',
          `${name} at 0x${addr.toString(16)} (${length} bytes) is not in guest memory`,
        );
      }
    }
    this.#validFor = mem;
  }

  isValid(mem: GuestMemory): boolean {
    try {
      this.validate(mem);
      return true;
    } catch (err) {
      if (err instanceof VirtioQueueError) return false;
      throw err;
    }
  }

  /**
   * Every ring operation starts here: a queue works only in a configuration
   * validated against the memory it is given (validated once, then again
   * only after the transport changes something), so no ring access can
   * leave guest memory even if the transport never called `validate`.
   * @throws VirtioQueueError with a `validate` code.
   */
  protected requireValid(mem: GuestMemory): void {
    if (this.#validFor !== mem) this.validate(mem);
  }
}
