/**
 * Descriptors: the byte-exact ring entries (split §2.7.5, packed §2.8)
 * and the buffers a chain is made of.
 */
import type { GuestAddress, ObjectLayout } from '@tsvmm/vm-memory';
import { VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE } from './constants.js';

/** `struct virtq_desc`: one entry of a split descriptor table or of an indirect table. */
export interface SplitDescriptor {
  /** Guest physical address of the buffer (le64). */
  readonly addr: bigint;
  /** Length of the buffer in bytes (le32). */
  readonly len: number;
  /** `VRING_DESC_F_*` (le16). */
  readonly flags: number;
  /** Index of the next descriptor when `flags` has NEXT (le16). */
  readonly next: number;
}

/** `struct pvirtq_desc`: one slot of a packed descriptor ring. */
export interface PackedDescriptor {
  /** Guest physical address of the buffer (le64). */
  readonly addr: bigint;
  /** Length of the buffer, or the used length in a used descriptor (le32). */
  readonly len: number;
  /** Buffer id (le16). */
  readonly id: number;
  /** `VRING_DESC_F_*` and the AVAIL/USED bits (le16). */
  readonly flags: number;
}

/** The layout of `struct virtq_desc`: addr at 0, len at 8, flags at 12, next at 14. */
export const SPLIT_DESCRIPTOR: ObjectLayout<SplitDescriptor> = {
  size: 16,
  read: (view, off) => ({
    addr: view.getBigUint64(off, true),
    len: view.getUint32(off + 8, true),
    flags: view.getUint16(off + 12, true),
    next: view.getUint16(off + 14, true),
  }),
  write(view, off, d) {
    view.setBigUint64(off, d.addr, true);
    view.setUint32(off + 8, d.len, true);
    view.setUint16(off + 12, d.flags, true);
    view.setUint16(off + 14, d.next, true);
  },
};

/** The layout of `struct pvirtq_desc`: addr at 0, len at 8, id at 12, flags at 14. */
export const PACKED_DESCRIPTOR: ObjectLayout<PackedDescriptor> = {
  size: 16,
  read: (view, off) => ({
    addr: view.getBigUint64(off, true),
    len: view.getUint32(off + 8, true),
    id: view.getUint16(off + 12, true),
    flags: view.getUint16(off + 14, true),
  }),
  write(view, off, d) {
    view.setBigUint64(off, d.addr, true);
    view.setUint32(off + 8, d.len, true);
    view.setUint16(off + 12, d.id, true);
    view.setUint16(off + 14, d.flags, true);
  },
};

/** One buffer of a popped chain: checked to lie in guest memory. */
export class Descriptor {
  /** Guest physical address of the buffer. */
  readonly addr: GuestAddress;
  /** Length in bytes. */
  readonly len: number;
  /** The descriptor's `VRING_DESC_F_*` flags as the driver wrote them. */
  readonly flags: number;

  constructor(addr: GuestAddress, len: number, flags: number) {
    this.addr = addr;
    this.len = len;
    this.flags = flags;
  }

  /** Whether the device may write the buffer (and must not read it). */
  get isWriteOnly(): boolean {
    return (this.flags & VRING_DESC_F_WRITE) !== 0;
  }

  /** Whether the driver marked it as continued. */
  get hasNext(): boolean {
    return (this.flags & VRING_DESC_F_NEXT) !== 0;
  }

  /** Whether the driver marked it as an indirect table (never true for a popped chain's buffers). */
  get isIndirect(): boolean {
    return (this.flags & VRING_DESC_F_INDIRECT) !== 0;
  }
}
