/**
 * Collects the buffers of a chain while a queue walks it, enforcing what
 * holds for both layouts: buffers lie in guest memory, and no device-readable
 * buffer follows a device-writable one (§2.7.4 and §2.8: drivers place
 * writable buffers last; QEMU rejects the other order too). Also walks
 * indirect tables, whose format differs between the layouts.
 */
import type { GuestAddress, GuestMemory } from '@tsvmm/vm-memory';
import {
  VIRTQ_DESC_SIZE,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
} from './constants.js';
import { Descriptor } from './descriptor.js';
import { DescriptorChain } from './descriptor-chain.js';
import { VirtioQueueError, type VirtioQueueErrorCode } from './errors.js';

/** The largest indirect table accepted: 65536 entries, all a u16 `next` can reach. */
export const MAX_INDIRECT_TABLE_BYTES = 65536 * VIRTQ_DESC_SIZE;

/** @internal */
export class ChainBuilder {
  readonly #mem: GuestMemory;
  readonly #head: number;
  readonly #descriptors: Descriptor[] = [];
  #readable = 0;
  #sawWritable = false;

  constructor(mem: GuestMemory, head: number) {
    this.#mem = mem;
    this.#head = head;
  }

  /** An error about this chain. */
  fail(code: VirtioQueueErrorCode, message: string): VirtioQueueError {
    return new VirtioQueueError(code, `chain ${this.#head}: ${message}`, { headIndex: this.#head });
  }

  /** Adds a direct buffer. */
  add(addr: bigint, len: number, flags: number): void {
    const writable = (flags & VRING_DESC_F_WRITE) !== 0;
    if (writable) this.#sawWritable = true;
    else if (this.#sawWritable)
      throw this.fail('READABLE_AFTER_WRITABLE', 'a readable buffer follows a writable one');
    if (len > 0 && !this.#mem.checkRange(addr, len)) {
      throw this.fail(
        'DESCRIPTOR_OUT_OF_MEMORY',
        `buffer 0x${addr.toString(16)}+${len} is not in guest memory`,
      );
    }
    this.#descriptors.push(new Descriptor(addr as GuestAddress, len, flags));
    if (!writable) this.#readable++;
  }

  /** Checks an indirect table's placement and returns its entry count. */
  #table(addr: bigint, len: number): number {
    if (len === 0 || len % VIRTQ_DESC_SIZE !== 0 || len > MAX_INDIRECT_TABLE_BYTES) {
      throw this.fail(
        'INVALID_INDIRECT_TABLE',
        `indirect table length ${len} is not a positive multiple of 16`,
      );
    }
    if (!this.#mem.checkRange(addr, len)) {
      throw this.fail(
        'DESCRIPTOR_OUT_OF_MEMORY',
        `indirect table 0x${addr.toString(16)}+${len} is not in guest memory`,
      );
    }
    return len / VIRTQ_DESC_SIZE;
  }

  /**
   * Walks a split indirect table (§2.7.5.3): `struct virtq_desc` entries
   * linked by `next` from entry 0. Each entry is read once, so a driver
   * changing it meanwhile cannot make the device see two versions.
   */
  addSplitIndirect(addr: bigint, len: number): void {
    const entries = this.#table(addr, len);
    const mem = this.#mem;
    let i = 0;
    for (let count = 1; ; count++) {
      if (count > entries)
        throw this.fail('CHAIN_TOO_LONG', `indirect chain longer than its ${entries} entries`);
      const at = addr + BigInt(i * VIRTQ_DESC_SIZE);
      const flags = mem.readU16(at + 12n);
      if ((flags & VRING_DESC_F_INDIRECT) !== 0) {
        throw this.fail('NESTED_INDIRECT', 'an indirect table contains an indirect descriptor');
      }
      this.add(mem.readU64(at), mem.readU32(at + 8n), flags);
      if ((flags & VRING_DESC_F_NEXT) === 0) return;
      i = mem.readU16(at + 14n);
      if (i >= entries)
        throw this.fail('INVALID_DESCRIPTOR_INDEX', `indirect next ${i} is not below ${entries}`);
    }
  }

  /**
   * Walks a packed indirect table (§2.8): `struct pvirtq_desc` entries in
   * order, all of them. Only the WRITE flag means something there; the
   * device ignores the other flags and the buffer ids, as the spec says.
   */
  addPackedIndirect(addr: bigint, len: number): void {
    const entries = this.#table(addr, len);
    const mem = this.#mem;
    for (let i = 0; i < entries; i++) {
      const at = addr + BigInt(i * VIRTQ_DESC_SIZE);
      this.add(mem.readU64(at), mem.readU32(at + 8n), mem.readU16(at + 14n) & VRING_DESC_F_WRITE);
    }
  }

  /** The finished chain, named by `headIndex` (packed: the buffer id, known only at its end). */
  build(ringSlots = 1, headIndex = this.#head): DescriptorChain {
    return new DescriptorChain(this.#mem, headIndex, this.#descriptors, this.#readable, ringSlots);
  }
}
