/**
 * A popped descriptor chain: the buffers of one request, with indirect
 * tables already resolved and every rule of §2.7.5/§2.8 already checked.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { Reader, Writer } from './cursor.js';
import type { Descriptor } from './descriptor.js';

/** One request from the driver: readable buffers first, then writable ones. */
export class DescriptorChain implements Iterable<Descriptor> {
  /** The memory the buffers lie in. */
  readonly memory: GuestMemory;
  /** What to pass to `addUsed`: the head descriptor's index (split) or the buffer id (packed). */
  readonly headIndex: number;
  /** The buffers in order, readable ones first; no indirect descriptors. */
  readonly descriptors: readonly Descriptor[];
  /** How many descriptors are device-readable (they come first). */
  readonly readableCount: number;
  /**
   * How many ring slots the chain took (packed: the used index advances by
   * this much; split: 1 for the head).
   * @internal
   */
  readonly ringSlots: number;

  constructor(
    memory: GuestMemory,
    headIndex: number,
    descriptors: readonly Descriptor[],
    readableCount: number,
    ringSlots = 1,
  ) {
    this.memory = memory;
    this.headIndex = headIndex;
    this.descriptors = descriptors;
    this.readableCount = readableCount;
    this.ringSlots = ringSlots;
  }

  /** A reader over the device-readable buffers. */
  reader(): Reader {
    return new Reader(this.memory, this.descriptors, 0, this.readableCount);
  }

  /** A writer over the device-writable buffers. */
  writer(): Writer {
    return new Writer(this.memory, this.descriptors, this.readableCount, this.descriptors.length);
  }

  /** Total bytes of the readable buffers. */
  get readableLength(): number {
    let n = 0;
    for (let i = 0; i < this.readableCount; i++) n += this.descriptors[i]!.len;
    return n;
  }

  /** Total bytes of the writable buffers. */
  get writableLength(): number {
    let n = 0;
    for (let i = this.readableCount; i < this.descriptors.length; i++) n += this.descriptors[i]!.len;
    return n;
  }

  [Symbol.iterator](): Iterator<Descriptor> {
    return this.descriptors[Symbol.iterator]();
  }
}
