/**
 * A driver for split virtqueues in test memory: lays out the three rings,
 * adds chains (direct or through an indirect table), and reads back what the
 * device used. rust-vmm's `MockSplitQueue`, for this package's tests and for
 * every device's.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import {
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_ELEM_SIZE,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
} from '../constants.js';
import { SPLIT_DESCRIPTOR, type SplitDescriptor } from '../descriptor.js';
import { availRingSize, Queue, usedRingSize } from '../split-queue.js';
import { configureQueue, DataArea, type MockBuffer, type MockChain, type MockUsed } from './mock-buffers.js';

/** Where a {@link MockSplitQueue} puts things. */
export interface MockSplitQueueOptions {
  /** Address of the descriptor table (16-aligned); the rings follow it. Default 0x1000. */
  base?: bigint;
  /** Where buffers and indirect tables are allocated; default 64 KiB past the used ring. */
  dataBase?: bigint;
  /** Set EVENT_IDX on the queue `createQueue` returns. */
  eventIdx?: boolean;
}

/** A split-ring driver over test memory; see the module comment. */
export class MockSplitQueue {
  readonly mem: GuestMemory;
  readonly size: number;
  readonly descTable: bigint;
  readonly availRing: bigint;
  readonly usedRing: bigint;
  readonly #eventIdx: boolean;
  readonly #data: DataArea;
  #nextDesc = 0;
  #availIdx = 0;
  #lastUsed = 0;

  /**
   * @param size - the queue size (a power of two up to 32768).
   */
  constructor(mem: GuestMemory, size: number, options: MockSplitQueueOptions = {}) {
    this.mem = mem;
    this.size = size;
    this.descTable = options.base ?? 0x1000n;
    this.availRing = this.descTable + BigInt(VIRTQ_DESC_SIZE * size);
    this.usedRing = (this.availRing + BigInt(availRingSize(size)) + 3n) & ~3n;
    this.#eventIdx = options.eventIdx ?? false;
    this.#data = new DataArea(
      options.dataBase ?? (this.usedRing + BigInt(usedRingSize(size)) + 0x10000n) & ~0xfffn,
    );
    mem.fill(this.descTable, Number(this.usedRing - this.descTable) + usedRingSize(size));
  }

  /** A device-side queue set up for these rings and ready. */
  createQueue(): Queue {
    return configureQueue(
      new Queue(this.size),
      this.size,
      [this.descTable, this.availRing, this.usedRing],
      this.#eventIdx,
    );
  }

  /** Writes descriptor `index` of the table as given (for malformed chains). */
  writeDescriptor(index: number, desc: SplitDescriptor): void {
    this.mem.writeObj(this.descTable + BigInt(VIRTQ_DESC_SIZE * index), SPLIT_DESCRIPTOR, desc);
  }

  /** Reads descriptor `index` of the table. */
  readDescriptor(index: number): SplitDescriptor {
    return this.mem.readObj(this.descTable + BigInt(VIRTQ_DESC_SIZE * index), SPLIT_DESCRIPTOR);
  }

  /** Reserves `len` bytes of the data area. */
  alloc(len: number): bigint {
    return this.#data.alloc(len);
  }

  /**
   * Lays out a chain in free descriptors (taken round-robin) and makes it
   * available. With `indirect`, the buffers go into an indirect table that
   * one descriptor points to.
   */
  addChain(buffers: readonly MockBuffer[], options: { indirect?: boolean } = {}): MockChain {
    const placed = this.#data.place(this.mem, buffers);
    const flagsOf = (i: number) =>
      (placed[i]!.write ? VRING_DESC_F_WRITE : 0) | (i < placed.length - 1 ? VRING_DESC_F_NEXT : 0);
    const head = this.#nextDesc;
    if (options.indirect === true) {
      const table = this.#data.alloc(VIRTQ_DESC_SIZE * placed.length);
      placed.forEach((b, i) => {
        this.mem.writeObj(table + BigInt(VIRTQ_DESC_SIZE * i), SPLIT_DESCRIPTOR, {
          addr: b.addr,
          len: b.len,
          flags: flagsOf(i),
          next: i + 1 < placed.length ? i + 1 : 0,
        });
      });
      this.#nextDesc = (head + 1) % this.size;
      this.writeDescriptor(head, {
        addr: table,
        len: VIRTQ_DESC_SIZE * placed.length,
        flags: VRING_DESC_F_INDIRECT,
        next: 0,
      });
    } else {
      placed.forEach((b, i) => {
        const index = (head + i) % this.size;
        this.writeDescriptor(index, {
          addr: b.addr,
          len: b.len,
          flags: flagsOf(i),
          next: (index + 1) % this.size,
        });
      });
      this.#nextDesc = (head + placed.length) % this.size;
    }
    this.publish(head);
    return { head, buffers: placed };
  }

  /** Puts `head` in the next available ring slot and publishes it (a release store of `idx`). */
  publish(head: number): void {
    this.mem.writeU16(this.availRing + 4n + BigInt(2 * (this.#availIdx % this.size)), head);
    this.#availIdx = (this.#availIdx + 1) & 0xffff;
    this.mem.storeU16(this.availRing + 2n, this.#availIdx);
  }

  /** The driver's available index. */
  get availIdx(): number {
    return this.#availIdx;
  }

  /** Writes the available index directly (for a driver that lies). */
  setAvailIdx(idx: number): void {
    this.#availIdx = idx & 0xffff;
    this.mem.storeU16(this.availRing + 2n, this.#availIdx);
  }

  /** Writes the available ring flags (`VRING_AVAIL_F_NO_INTERRUPT`). */
  setAvailFlags(flags: number): void {
    this.mem.storeU16(this.availRing, flags);
  }

  /** Writes `used_event` (EVENT_IDX). */
  setUsedEvent(idx: number): void {
    this.mem.storeU16(this.availRing + BigInt(4 + 2 * this.size), idx & 0xffff);
  }

  /** The used index the device published. */
  get usedIdx(): number {
    return this.mem.loadU16(this.usedRing + 2n);
  }

  /** The used ring flags (`VRING_USED_F_NO_NOTIFY`). */
  get usedFlags(): number {
    return this.mem.loadU16(this.usedRing);
  }

  /** `avail_event` as the device wrote it (EVENT_IDX). */
  get availEvent(): number {
    return this.mem.loadU16(this.usedRing + BigInt(4 + VIRTQ_USED_ELEM_SIZE * this.size));
  }

  /** The used elements published since the last call. */
  takeUsed(): MockUsed[] {
    const out: MockUsed[] = [];
    const end = this.usedIdx;
    for (; this.#lastUsed !== end; this.#lastUsed = (this.#lastUsed + 1) & 0xffff) {
      const at = this.usedRing + 4n + BigInt(VIRTQ_USED_ELEM_SIZE * (this.#lastUsed % this.size));
      out.push({ id: this.mem.readU32(at), len: this.mem.readU32(at + 4n) });
    }
    return out;
  }
}
