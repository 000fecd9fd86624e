/**
 * The split virtqueue (virtio 1.2 §2.7) as a device sees it: rust-vmm's
 * `Queue`.
 *
 * Layout: a descriptor table of `size` 16-byte entries (16-aligned), the
 * available ring `{ flags, idx, ring[size], used_event }` (2-aligned) written
 * by the driver, and the used ring `{ flags, idx, ring[size] of { id, len },
 * avail_event }` (4-aligned) written by the device.
 *
 * Memory ordering: the available index is read with an atomic load before
 * the ring entries and descriptors it publishes; a used element is written
 * before the used index is published with an atomic store; and the atomic
 * (sequentially consistent, so fencing) store of the used index or of
 * `avail_event` comes before the load of `used_event` or of the available
 * index that decides whether to notify.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { ChainBuilder } from './chain-builder.js';
import {
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_ELEM_SIZE,
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_USED_F_NO_NOTIFY,
} from './constants.js';
import type { DescriptorChain } from './descriptor-chain.js';
import { queueErrorFrom, VirtioQueueError } from './errors.js';
import { QueueConfig, type VirtQueue } from './queue.js';

/** Bytes of the available ring for a queue size (with `used_event`). */
export function availRingSize(size: number): number {
  return 6 + 2 * size;
}

/** Bytes of the used ring for a queue size (with `avail_event`). */
export function usedRingSize(size: number): number {
  return 6 + VIRTQ_USED_ELEM_SIZE * size;
}

/** A split virtqueue; see the module comment and {@link VirtQueue}. */
export class Queue extends QueueConfig implements VirtQueue {
  #nextAvail = 0;
  #nextUsed = 0;
  #signalledUsed: number | undefined;

  /**
   * @param maxSize - the largest queue size the device offers: a power of two up to 32768.
   * @throws RangeError otherwise.
   */
  constructor(maxSize: number) {
    super(maxSize, true);
  }

  get nextAvail(): number {
    return this.#nextAvail;
  }
  get nextUsed(): number {
    return this.#nextUsed;
  }

  /** Sets the next available index (restoring a saved queue). */
  setNextAvail(index: number): void {
    this.#nextAvail = checkU16(index, 'index');
  }
  /** Sets the next used index (restoring a saved queue). */
  setNextUsed(index: number): void {
    this.#nextUsed = checkU16(index, 'index');
  }

  override reset(): void {
    super.reset();
    this.#nextAvail = 0;
    this.#nextUsed = 0;
    this.#signalledUsed = undefined;
  }

  protected sizeAllowed(size: number): boolean {
    return (size & (size - 1)) === 0;
  }

  protected areas(): Array<[bigint, number, number, string]> {
    return [
      [this.descTable, VIRTQ_DESC_SIZE * this.size, 16, 'descriptor table'],
      [this.availRing, availRingSize(this.size), 2, 'available ring'],
      [this.usedRing, usedRingSize(this.size), 4, 'used ring'],
    ];
  }

  /** The driver's available index (an acquire load). */
  availIdx(mem: GuestMemory): number {
    this.requireValid(mem);
    try {
      return mem.loadU16(this.availRing + 2n);
    } catch (err) {
      throw queueErrorFrom(err, 'reading the available index');
    }
  }

  /** The used index as published in guest memory. */
  usedIdx(mem: GuestMemory): number {
    this.requireValid(mem);
    try {
      return mem.loadU16(this.usedRing + 2n);
    } catch (err) {
      throw queueErrorFrom(err, 'reading the used index');
    }
  }

  popDescriptorChain(mem: GuestMemory): DescriptorChain | undefined {
    this.requireValid(mem);
    const size = this.size;
    const availIdx = this.availIdx(mem);
    const pending = (availIdx - this.#nextAvail) & 0xffff;
    if (pending > size) {
      throw new VirtioQueueError(
        'INVALID_AVAIL_IDX',
        `available index ${availIdx} is ${pending} ahead of ${this.#nextAvail}, more than the queue size ${size}`,
      );
    }
    if (pending === 0) return undefined;
    let head: number;
    try {
      head = mem.readU16(this.availRing + 4n + BigInt(2 * (this.#nextAvail & (size - 1))));
    } catch (err) {
      throw queueErrorFrom(err, 'reading the available ring');
    }
    this.#nextAvail = (this.#nextAvail + 1) & 0xffff;
    try {
      return this.#walk(mem, head, size);
    } catch (err) {
      throw queueErrorFrom(err, `reading chain ${head}`, head);
    }
  }

  /** Follows a chain from `head`, resolving an indirect table at its end. */
  #walk(mem: GuestMemory, head: number, size: number): DescriptorChain {
    const chain = new ChainBuilder(mem, head);
    if (head >= size)
      throw chain.fail('INVALID_DESCRIPTOR_INDEX', `head ${head} is not below the queue size ${size}`);
    const table = this.descTable;
    let i = head;
    for (let count = 1; ; count++) {
      if (count > size) throw chain.fail('CHAIN_TOO_LONG', `chain longer than the queue size ${size}`);
      const at = table + BigInt(i * VIRTQ_DESC_SIZE);
      // Each field is read once: a driver rewriting the descriptor meanwhile
      // cannot make the device check one value and use another.
      const addr = mem.readU64(at);
      const len = mem.readU32(at + 8n);
      const flags = mem.readU16(at + 12n);
      if ((flags & VRING_DESC_F_INDIRECT) !== 0) {
        if ((flags & VRING_DESC_F_NEXT) !== 0) {
          throw chain.fail('INDIRECT_WITH_NEXT', 'an indirect descriptor must not have NEXT set');
        }
        // §2.7.5.3: zero or more direct descriptors, then one indirect one, which ends the chain.
        chain.addSplitIndirect(addr, len);
        return chain.build();
      }
      chain.add(addr, len, flags);
      if ((flags & VRING_DESC_F_NEXT) === 0) return chain.build();
      i = mem.readU16(at + 14n);
      if (i >= size)
        throw chain.fail('INVALID_DESCRIPTOR_INDEX', `next ${i} is not below the queue size ${size}`);
    }
  }

  *iter(mem: GuestMemory): IterableIterator<DescriptorChain> {
    for (;;) {
      const chain = this.popDescriptorChain(mem);
      if (chain === undefined) return;
      yield chain;
    }
  }

  undoPop(): void {
    this.#nextAvail = (this.#nextAvail - 1) & 0xffff;
  }

  addUsed(mem: GuestMemory, headIndex: number, len: number): void {
    this.requireValid(mem);
    const size = this.size;
    if (!Number.isInteger(headIndex) || headIndex < 0 || headIndex >= size) {
      throw new VirtioQueueError('INVALID_USED_ID', `head ${headIndex} is not below the queue size ${size}`);
    }
    if (!Number.isInteger(len) || len < 0 || len > 0xffffffff)
      throw new RangeError(`len must be a u32, got ${len}`);
    const used = this.usedRing;
    const elem = used + 4n + BigInt(VIRTQ_USED_ELEM_SIZE * (this.#nextUsed & (size - 1)));
    try {
      mem.writeU32(elem, headIndex);
      mem.writeU32(elem + 4n, len);
      this.#nextUsed = (this.#nextUsed + 1) & 0xffff;
      mem.storeU16(used + 2n, this.#nextUsed);
    } catch (err) {
      throw queueErrorFrom(err, 'writing the used ring');
    }
  }

  needsNotification(mem: GuestMemory): boolean {
    this.requireValid(mem);
    const usedIdx = this.#nextUsed;
    try {
      if (this.eventIdx) {
        const old = this.#signalledUsed;
        this.#signalledUsed = usedIdx;
        if (old === undefined) return true;
        const usedEvent = mem.loadU16(this.availRing + BigInt(4 + 2 * this.size));
        // vring_need_event(): notify if used_event lies in [old, usedIdx), modulo 2^16.
        return ((usedIdx - usedEvent - 1) & 0xffff) < ((usedIdx - old) & 0xffff);
      }
      return (mem.loadU16(this.availRing) & VRING_AVAIL_F_NO_INTERRUPT) === 0;
    } catch (err) {
      throw queueErrorFrom(err, 'reading the driver notification state');
    }
  }

  enableNotification(mem: GuestMemory): boolean {
    this.requireValid(mem);
    try {
      if (this.eventIdx)
        mem.storeU16(this.usedRing + BigInt(4 + VIRTQ_USED_ELEM_SIZE * this.size), this.#nextAvail);
      else mem.storeU16(this.usedRing, 0);
    } catch (err) {
      throw queueErrorFrom(err, 'writing the used ring notification state');
    }
    // The store above is sequentially consistent, so this load cannot move before it.
    return this.availIdx(mem) !== this.#nextAvail;
  }

  disableNotification(mem: GuestMemory): void {
    this.requireValid(mem);
    if (this.eventIdx) return; // with EVENT_IDX, not re-arming avail_event is enough
    try {
      mem.storeU16(this.usedRing, VRING_USED_F_NO_NOTIFY);
    } catch (err) {
      throw queueErrorFrom(err, 'writing the used ring flags');
    }
  }
}

function checkU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new RangeError(`${what} must be a u16, got ${value}`);
  return value;
}
