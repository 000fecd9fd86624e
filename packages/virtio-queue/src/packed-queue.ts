/**
 * The packed virtqueue (virtio 1.2 §2.8) behind the same device interface
 * as the split {@link Queue}.
 *
 * One ring of `size` 16-byte descriptors `{ addr, len, id, flags }`
 * (16-aligned) that the driver fills and the device overwrites with used
 * descriptors; a driver event suppression area `{ off_wrap, flags }` (the
 * "driver area", 4-aligned) that the device reads, and a device event
 * suppression area (the "device area") that it writes. Both sides keep a
 * position and a wrap counter that flips each lap; a slot is available when
 * its AVAIL bit equals the device's available wrap counter and its USED bit
 * does not. A chain is consecutive slots linked by NEXT; its buffer id is
 * in its last descriptor, and its used descriptor advances the used position
 * by as many slots as the chain took.
 *
 * Ordering: the first descriptor's flags are read with an atomic load before
 * the rest of the chain; a used descriptor's id and length are written before
 * its flags are published with an atomic store.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { ChainBuilder } from './chain-builder.js';
import {
  VIRTQ_DESC_SIZE,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_PACKED_DESC_F_AVAIL,
  VRING_PACKED_DESC_F_USED,
  VRING_PACKED_EVENT_F_WRAP_CTR,
  VRING_PACKED_EVENT_FLAG_DESC,
  VRING_PACKED_EVENT_FLAG_DISABLE,
  VRING_PACKED_EVENT_FLAG_ENABLE,
} from './constants.js';
import type { DescriptorChain } from './descriptor-chain.js';
import { queueErrorFrom, VirtioQueueError } from './errors.js';
import { QueueConfig, type VirtQueue } from './queue.js';

/** Whether a slot's flags mark it available for a device whose available wrap counter is `wrap`. */
function isAvailable(flags: number, wrap: boolean): boolean {
  return (
    ((flags & VRING_PACKED_DESC_F_AVAIL) !== 0) === wrap &&
    ((flags & VRING_PACKED_DESC_F_USED) !== 0) !== wrap
  );
}

/** A packed virtqueue; see the module comment and {@link VirtQueue}. */
export class PackedQueue extends QueueConfig implements VirtQueue {
  #nextAvail = 0;
  #availWrap = true;
  #nextUsed = 0;
  #usedWrap = true;
  /** Slots taken by each buffer id popped and not yet used, oldest first. */
  readonly #inFlight = new Map<number, number[]>();
  #last: { slot: number; wrap: boolean; id: number } | undefined;
  /** Slots used since the last notification decision; undefined before the first. */
  #sinceSignal: number | undefined;

  /**
   * @param maxSize - the largest queue size the device offers, 1..32768 (packed sizes need not be powers of two).
   * @throws RangeError otherwise.
   */
  constructor(maxSize: number) {
    super(maxSize, false);
  }

  get nextAvail(): number {
    return this.#nextAvail;
  }
  get nextUsed(): number {
    return this.#nextUsed;
  }
  /** The device's available wrap counter (starts true). */
  get availWrapCounter(): boolean {
    return this.#availWrap;
  }
  /** The device's used wrap counter (starts true). */
  get usedWrapCounter(): boolean {
    return this.#usedWrap;
  }

  override reset(): void {
    super.reset();
    this.#nextAvail = 0;
    this.#availWrap = true;
    this.#nextUsed = 0;
    this.#usedWrap = true;
    this.#inFlight.clear();
    this.#last = undefined;
    this.#sinceSignal = undefined;
  }

  protected sizeAllowed(): boolean {
    return true;
  }

  protected areas(): Array<[bigint, number, number, string]> {
    return [
      [this.descTable, VIRTQ_DESC_SIZE * this.size, 16, 'descriptor ring'],
      [this.availRing, 4, 4, 'driver event suppression area'],
      [this.usedRing, 4, 4, 'device event suppression area'],
    ];
  }

  popDescriptorChain(mem: GuestMemory): DescriptorChain | undefined {
    this.requireValid(mem);
    const ring = this.descTable;
    const first = this.#nextAvail;
    let flags: number;
    try {
      flags = mem.loadU16(ring + BigInt(first * VIRTQ_DESC_SIZE + 14));
    } catch (err) {
      throw queueErrorFrom(err, 'reading the descriptor ring');
    }
    if (!isAvailable(flags, this.#availWrap)) return undefined;
    const size = this.size;
    const chain = new ChainBuilder(mem, first);
    let slot = first;
    let wrap = this.#availWrap;
    let count = 0; // descriptors looked at
    let taken = 0; // slots passed
    let id = 0;
    try {
      for (;;) {
        count++;
        if (count > size) throw chain.fail('CHAIN_TOO_LONG', `chain longer than the ring of ${size}`);
        const at = ring + BigInt(slot * VIRTQ_DESC_SIZE);
        if (count > 1) {
          flags = mem.loadU16(at + 14n);
          if (!isAvailable(flags, wrap)) {
            throw chain.fail(
              'DESCRIPTOR_NOT_AVAILABLE',
              `the chain continues into slot ${slot}, not available`,
            );
          }
        }
        const addr = mem.readU64(at);
        const len = mem.readU32(at + 8n);
        id = mem.readU16(at + 12n);
        slot++;
        taken++;
        if (slot === size) {
          slot = 0;
          wrap = !wrap;
        }
        if ((flags & VRING_DESC_F_INDIRECT) !== 0) {
          // §2.8, indirect descriptors: one is never part of a NEXT-linked list.
          if ((flags & VRING_DESC_F_NEXT) !== 0 || count > 1) {
            throw chain.fail('INDIRECT_WITH_NEXT', 'an indirect descriptor must not be chained');
          }
          chain.addPackedIndirect(addr, len);
          break;
        }
        chain.add(addr, len, flags & (VRING_DESC_F_NEXT | VRING_DESC_F_WRITE));
        if ((flags & VRING_DESC_F_NEXT) === 0) break;
      }
    } catch (err) {
      // The slots read are consumed, and can be returned as used under the last id read.
      this.#consume(first, slot, wrap, id, taken);
      if (err instanceof VirtioQueueError) {
        throw new VirtioQueueError(err.code, `buffer id ${id}: ${err.message}`, { headIndex: id });
      }
      throw queueErrorFrom(err, `reading the chain at slot ${first}`, id);
    }
    this.#consume(first, slot, wrap, id, taken);
    return chain.build(taken, id);
  }

  #consume(first: number, slot: number, wrap: boolean, id: number, count: number): void {
    if (count === 0) return;
    this.#last = { slot: first, wrap: this.#availWrap, id };
    this.#nextAvail = slot;
    this.#availWrap = wrap;
    const pending = this.#inFlight.get(id);
    if (pending === undefined) this.#inFlight.set(id, [count]);
    else pending.push(count);
  }

  *iter(mem: GuestMemory): IterableIterator<DescriptorChain> {
    for (;;) {
      const chain = this.popDescriptorChain(mem);
      if (chain === undefined) return;
      yield chain;
    }
  }

  undoPop(): void {
    const last = this.#last;
    if (last === undefined) return;
    this.#last = undefined;
    this.#nextAvail = last.slot;
    this.#availWrap = last.wrap;
    const pending = this.#inFlight.get(last.id);
    pending?.pop();
    if (pending?.length === 0) this.#inFlight.delete(last.id);
  }

  addUsed(mem: GuestMemory, headIndex: number, len: number): void {
    this.requireValid(mem);
    const pending = this.#inFlight.get(headIndex);
    if (pending === undefined) {
      throw new VirtioQueueError(
        'INVALID_USED_ID',
        `buffer id ${headIndex} was not popped or was already used`,
      );
    }
    if (!Number.isInteger(len) || len < 0 || len > 0xffffffff)
      throw new RangeError(`len must be a u32, got ${len}`);
    const slots = pending.shift()!;
    if (pending.length === 0) this.#inFlight.delete(headIndex);
    const at = this.descTable + BigInt(this.#nextUsed * VIRTQ_DESC_SIZE);
    const flags =
      (this.#usedWrap ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0) |
      (len > 0 ? VRING_DESC_F_WRITE : 0);
    try {
      mem.writeU32(at + 8n, len);
      mem.writeU16(at + 12n, headIndex);
      mem.storeU16(at + 14n, flags);
    } catch (err) {
      throw queueErrorFrom(err, 'writing a used descriptor');
    }
    this.#nextUsed += slots;
    if (this.#nextUsed >= this.size) {
      this.#nextUsed -= this.size;
      this.#usedWrap = !this.#usedWrap;
    }
    if (this.#sinceSignal !== undefined) this.#sinceSignal += slots;
  }

  needsNotification(mem: GuestMemory): boolean {
    this.requireValid(mem);
    let offWrap: number;
    let flags: number;
    try {
      offWrap = mem.loadU16(this.availRing);
      flags = mem.loadU16(this.availRing + 2n) & 3;
    } catch (err) {
      throw queueErrorFrom(err, 'reading the driver event suppression area');
    }
    const since = this.#sinceSignal;
    this.#sinceSignal = 0;
    if (flags === VRING_PACKED_EVENT_FLAG_DISABLE) return false;
    // ENABLE, or a value this driver may not use (DESC without EVENT_IDX, the
    // reserved 3): notify, so that a confused driver is never left waiting.
    if (flags !== VRING_PACKED_EVENT_FLAG_DESC || !this.eventIdx) return true;
    if (since === undefined) return true;
    // vring_need_event() in one linear space: `now` is the used position in
    // this lap, `old` may lie in the previous one, and an event offset
    // written for the previous lap is moved there too.
    const now = this.#nextUsed;
    const old = now - since;
    let event = offWrap & 0x7fff;
    if (offWrap >>> VRING_PACKED_EVENT_F_WRAP_CTR !== (this.#usedWrap ? 1 : 0)) event -= this.size;
    return ((now - event - 1) & 0xffff) < ((now - old) & 0xffff);
  }

  enableNotification(mem: GuestMemory): boolean {
    this.requireValid(mem);
    try {
      if (this.eventIdx) {
        mem.storeU16(
          this.usedRing,
          this.#nextAvail | ((this.#availWrap ? 1 : 0) << VRING_PACKED_EVENT_F_WRAP_CTR),
        );
        mem.storeU16(this.usedRing + 2n, VRING_PACKED_EVENT_FLAG_DESC);
      } else {
        mem.storeU16(this.usedRing + 2n, VRING_PACKED_EVENT_FLAG_ENABLE);
      }
      const flags = mem.loadU16(this.descTable + BigInt(this.#nextAvail * VIRTQ_DESC_SIZE + 14));
      return isAvailable(flags, this.#availWrap);
    } catch (err) {
      throw queueErrorFrom(err, 'enabling notifications');
    }
  }

  disableNotification(mem: GuestMemory): void {
    this.requireValid(mem);
    try {
      mem.storeU16(this.usedRing + 2n, VRING_PACKED_EVENT_FLAG_DISABLE);
    } catch (err) {
      throw queueErrorFrom(err, 'disabling notifications');
    }
  }
}
