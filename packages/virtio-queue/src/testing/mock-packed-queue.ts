/**
 * A driver for packed virtqueues in test memory, the twin of
 * `MockSplitQueue`: lays out the descriptor ring and the two event
 * suppression areas, adds chains with the driver's wrap counter, and reads
 * back used descriptors.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import {
  VIRTQ_DESC_SIZE,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_PACKED_DESC_F_AVAIL,
  VRING_PACKED_DESC_F_USED,
} from '../constants.js';
import { PACKED_DESCRIPTOR, type PackedDescriptor } from '../descriptor.js';
import { PackedQueue } from '../packed-queue.js';
import { configureQueue, DataArea, type MockBuffer, type MockChain, type MockUsed } from './mock-buffers.js';

/** Where a {@link MockPackedQueue} puts things. */
export interface MockPackedQueueOptions {
  /** Address of the descriptor ring (16-aligned); the event areas follow it. Default 0x1000. */
  base?: bigint;
  /** Where buffers and indirect tables are allocated; default 64 KiB past the rings. */
  dataBase?: bigint;
  /** Set EVENT_IDX on the queue `createQueue` returns. */
  eventIdx?: boolean;
}

/** The AVAIL/USED bits a driver writes to make a slot available in a lap with wrap counter `wrap`. */
export function packedAvailFlags(wrap: boolean): number {
  return wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED;
}

/** A packed-ring driver over test memory; see the module comment. */
export class MockPackedQueue {
  readonly mem: GuestMemory;
  readonly size: number;
  readonly descRing: bigint;
  /** Driver event suppression (`off_wrap`, `flags`). */
  readonly driverArea: bigint;
  /** Device event suppression (`off_wrap`, `flags`). */
  readonly deviceArea: bigint;
  readonly #eventIdx: boolean;
  readonly #data: DataArea;
  #nextAvail = 0;
  #availWrap = true;
  #nextUsed = 0;
  #usedWrap = true;
  #nextId = 0;
  readonly #slotsOf = new Map<number, number>();

  /** @param size - the queue size, 1..32768. */
  constructor(mem: GuestMemory, size: number, options: MockPackedQueueOptions = {}) {
    this.mem = mem;
    this.size = size;
    this.descRing = options.base ?? 0x1000n;
    this.driverArea = this.descRing + BigInt(VIRTQ_DESC_SIZE * size);
    this.deviceArea = this.driverArea + 4n;
    this.#eventIdx = options.eventIdx ?? false;
    this.#data = new DataArea(options.dataBase ?? (this.deviceArea + 4n + 0x10000n) & ~0xfffn);
    mem.fill(this.descRing, VIRTQ_DESC_SIZE * size + 8);
  }

  /** A device-side queue set up for this ring and ready. */
  createQueue(): PackedQueue {
    const areas = [this.descRing, this.driverArea, this.deviceArea] as const;
    return configureQueue(new PackedQueue(this.size), this.size, areas, this.#eventIdx);
  }

  /** The driver's next slot and wrap counter. */
  get nextAvail(): number {
    return this.#nextAvail;
  }
  get availWrapCounter(): boolean {
    return this.#availWrap;
  }

  /** Writes ring slot `slot` as given (for malformed chains). */
  writeDescriptor(slot: number, desc: PackedDescriptor): void {
    this.mem.writeObj(this.descRing + BigInt(VIRTQ_DESC_SIZE * slot), PACKED_DESCRIPTOR, desc);
  }

  /** Reads ring slot `slot`. */
  readDescriptor(slot: number): PackedDescriptor {
    return this.mem.readObj(this.descRing + BigInt(VIRTQ_DESC_SIZE * slot), PACKED_DESCRIPTOR);
  }

  /** Reserves `len` bytes of the data area. */
  alloc(len: number): bigint {
    return this.#data.alloc(len);
  }

  /**
   * Lays out a chain in the next slots and makes it available, writing the
   * first slot's flags last. With `indirect`, the buffers go into an indirect
   * table that one slot points to. `id` defaults to a counter modulo the size.
   */
  addChain(buffers: readonly MockBuffer[], options: { indirect?: boolean; id?: number } = {}): MockChain {
    const placed = this.#data.place(this.mem, buffers);
    const id = options.id ?? this.#nextId;
    this.#nextId = (this.#nextId + 1) % this.size;
    const slots: PackedDescriptor[] = [];
    if (options.indirect === true) {
      const table = this.#data.alloc(VIRTQ_DESC_SIZE * placed.length);
      placed.forEach((b, i) => {
        this.mem.writeObj(table + BigInt(VIRTQ_DESC_SIZE * i), PACKED_DESCRIPTOR, {
          addr: b.addr,
          len: b.len,
          id: 0,
          flags: b.write ? VRING_DESC_F_WRITE : 0,
        });
      });
      slots.push({ addr: table, len: VIRTQ_DESC_SIZE * placed.length, id, flags: VRING_DESC_F_INDIRECT });
    } else {
      placed.forEach((b, i) => {
        slots.push({
          addr: b.addr,
          len: b.len,
          id,
          flags: (b.write ? VRING_DESC_F_WRITE : 0) | (i < placed.length - 1 ? VRING_DESC_F_NEXT : 0),
        });
      });
    }
    const first = this.#nextAvail;
    const firstWrap = this.#availWrap;
    slots.forEach((d, i) => {
      const flags = d.flags | packedAvailFlags(this.#availWrap);
      // The first slot is published last, so the device never sees half a chain.
      this.writeDescriptor(this.#nextAvail, { ...d, flags: i === 0 ? 0 : flags });
      this.#nextAvail++;
      if (this.#nextAvail === this.size) {
        this.#nextAvail = 0;
        this.#availWrap = !this.#availWrap;
      }
    });
    // Clearing the first slot's flags above made it unavailable in either lap
    // while the rest was written; publish it now.
    this.mem.storeU16(
      this.descRing + BigInt(VIRTQ_DESC_SIZE * first + 14),
      slots[0]!.flags | packedAvailFlags(firstWrap),
    );
    this.#slotsOf.set(id, slots.length);
    return { head: id, buffers: placed };
  }

  /** Writes the driver event suppression area (`off_wrap`, `flags`). */
  setDriverEvent(offWrap: number, flags: number): void {
    this.mem.storeU16(this.driverArea, offWrap);
    this.mem.storeU16(this.driverArea + 2n, flags);
  }

  /** The device event suppression area as the device wrote it. */
  get deviceEvent(): { offWrap: number; flags: number } {
    return { offWrap: this.mem.loadU16(this.deviceArea), flags: this.mem.loadU16(this.deviceArea + 2n) };
  }

  /** The used descriptors written since the last call, in order. */
  takeUsed(): MockUsed[] {
    const out: MockUsed[] = [];
    for (;;) {
      const at = this.descRing + BigInt(VIRTQ_DESC_SIZE * this.#nextUsed);
      const flags = this.mem.loadU16(at + 14n);
      const avail = (flags & VRING_PACKED_DESC_F_AVAIL) !== 0;
      const used = (flags & VRING_PACKED_DESC_F_USED) !== 0;
      if (avail !== used || used !== this.#usedWrap) return out;
      const id = this.mem.readU16(at + 12n);
      out.push({ id, len: this.mem.readU32(at + 8n) });
      this.#nextUsed += this.#slotsOf.get(id) ?? 1;
      if (this.#nextUsed >= this.size) {
        this.#nextUsed -= this.size;
        this.#usedWrap = !this.#usedWrap;
      }
    }
  }
}
