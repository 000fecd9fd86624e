/**
 * Segment descriptors (Intel SDM vol. 3, §3.4.5) and the boot GDT.
 *
 * The boot GDT has the selectors the Linux boot protocol asks for
 * (Documentation/arch/x86/boot.rst: `__BOOT_CS` = 0x10, `__BOOT_DS` = 0x18,
 * 4 GiB flat) plus a flat 32-bit code segment for the PVH entry and a TSS.
 */
import type { KvmSegment } from '@tsvmm/kvm-ioctls';

/** The fields of a segment descriptor that a VMM chooses. */
export interface SegmentDescriptor {
  base: number;
  /** 20-bit limit, in bytes or (with `g`) in 4 KiB units. */
  limit: number;
  /** 4-bit type: code/data/system type bits. */
  type: number;
  /** 1 for code/data, 0 for system (TSS, LDT). */
  s: number;
  dpl: number;
  present: number;
  avl: number;
  /** 64-bit code segment. */
  l: number;
  /** Default operation size 32-bit. */
  db: number;
  /** Limit granularity 4 KiB. */
  g: number;
}

/** Encodes a descriptor as the 8 bytes the CPU reads, as a bigint. */
export function encodeDescriptor(d: SegmentDescriptor): bigint {
  if (d.limit < 0 || d.limit > 0xfffff)
    throw new RangeError(`segment limit ${d.limit} does not fit in 20 bits`);
  if (d.base < 0 || d.base > 0xffffffff)
    throw new RangeError(`segment base ${d.base} does not fit in 32 bits`);
  const base = BigInt(d.base);
  const limit = BigInt(d.limit);
  const access = BigInt((d.present << 7) | (d.dpl << 5) | (d.s << 4) | d.type);
  const flags = BigInt((d.g << 3) | (d.db << 2) | (d.l << 1) | d.avl);
  return (
    (limit & 0xffffn) |
    ((base & 0xffffffn) << 16n) |
    (access << 40n) |
    (((limit >> 16n) & 0xfn) << 48n) |
    (flags << 52n) |
    (((base >> 24n) & 0xffn) << 56n)
  );
}

/** Decodes 8 descriptor bytes back into their fields. */
export function decodeDescriptor(raw: bigint): SegmentDescriptor {
  const access = Number((raw >> 40n) & 0xffn);
  const flags = Number((raw >> 52n) & 0xfn);
  return {
    base: Number((raw >> 16n) & 0xffffffn) + Number((raw >> 56n) & 0xffn) * 0x1000000,
    limit: Number(raw & 0xffffn) | (Number((raw >> 48n) & 0xfn) << 16),
    type: access & 0xf,
    s: (access >> 4) & 1,
    dpl: (access >> 5) & 3,
    present: access >> 7,
    avl: flags & 1,
    l: (flags >> 1) & 1,
    db: (flags >> 2) & 1,
    g: (flags >> 3) & 1,
  };
}

/**
 * The `kvm_segment` KVM expects for a descriptor loaded with `selector`: the
 * hidden part of the segment register, with the limit expanded to bytes.
 */
export function kvmSegment(selector: number, d: SegmentDescriptor): KvmSegment {
  return {
    base: BigInt(d.base),
    limit: d.g ? d.limit * 0x1000 + 0xfff : d.limit,
    selector,
    type: d.type,
    present: d.present,
    dpl: d.dpl,
    db: d.db,
    s: d.s,
    l: d.l,
    g: d.g,
    avl: d.avl,
    unusable: d.present ? 0 : 1,
  };
}

const flat = { base: 0, limit: 0xfffff, s: 1, dpl: 0, present: 1, avl: 0, g: 1 };

/** Flat 32-bit code (PVH entry): execute/read, accessed. */
export const CODE32: SegmentDescriptor = { ...flat, type: 0xb, l: 0, db: 1 };
/** Flat 64-bit code (`__BOOT_CS`): execute/read, accessed, L=1. */
export const CODE64: SegmentDescriptor = { ...flat, type: 0xb, l: 1, db: 0 };
/** Flat data (`__BOOT_DS`): read/write, accessed. */
export const DATA: SegmentDescriptor = { ...flat, type: 0x3, l: 0, db: 1 };
/** A 32/64-bit busy TSS of the minimum size (the VMM never switches tasks; VT-x needs a usable TR). */
export const TSS: SegmentDescriptor = {
  base: 0,
  limit: 0x67,
  type: 0xb,
  s: 0,
  dpl: 0,
  present: 1,
  avl: 0,
  l: 0,
  db: 0,
  g: 0,
};

/** Selectors in {@link BOOT_GDT}. */
export const SELECTOR = { CODE32: 0x08, CODE64: 0x10, DATA: 0x18, TSS: 0x20 } as const;

/** The boot GDT, indexed by selector / 8. Entry 0 is the null descriptor. */
export const BOOT_GDT: readonly (SegmentDescriptor | null)[] = [null, CODE32, CODE64, DATA, TSS];

/** The GDT as the bytes to place in guest memory. */
export function gdtBytes(entries: readonly (SegmentDescriptor | null)[] = BOOT_GDT): Uint8Array {
  const out = new Uint8Array(entries.length * 8);
  const view = new DataView(out.buffer);
  entries.forEach((d, i) => {
    view.setBigUint64(i * 8, d === null ? 0n : encodeDescriptor(d), true);
  });
  return out;
}
