/**
 * The GuestMemory contract, run against both implementations over the same
 * layout: two adjacent regions, a gap, and a third region.
 */
import { describe, expect, it } from 'vitest';
import {
  DirtyBitmap,
  type GuestMemory,
  GuestMemoryArrayBuffer,
  GuestMemoryMmap,
  type ObjectLayout,
  type VmMemoryError,
} from '../src/index.js';
import { errorCode } from './support/codes.js';

const RANGES = [
  { start: 0n, size: 0x10000 },
  { start: 0x10000n, size: 0x10000 },
  { start: 0x30000n, size: 0x1000 },
];
const END = 0x31000n;

interface Pair {
  a: number;
  b: bigint;
}
const pairLayout: ObjectLayout<Pair> = {
  size: 12,
  read: (view, off) => ({ a: view.getUint32(off, true), b: view.getBigUint64(off + 4, true) }),
  write: (view, off, v) => {
    view.setUint32(off, v.a, true);
    view.setBigUint64(off + 4, v.b, true);
  },
};

const makers: Array<[string, () => GuestMemory & { close?: () => void }]> = [
  ['GuestMemoryArrayBuffer', () => GuestMemoryArrayBuffer.fromRanges(RANGES, { dirtyTracking: true })],
  ['GuestMemoryMmap', () => GuestMemoryMmap.fromRanges(RANGES, { dirtyTracking: true })],
];

describe.each(makers)('%s', (_name, make) => {
  it('describes its regions sorted, with sizes and ends', () => {
    const mem = make();
    expect(mem.regions.map((r) => [r.start, r.size, r.end])).toEqual([
      [0n, 0x10000, 0x10000n],
      [0x10000n, 0x10000, 0x20000n],
      [0x30000n, 0x1000, 0x31000n],
    ]);
    expect(mem.totalSize).toBe(0x21000);
    expect(mem.findRegion(0x10000n)?.start).toBe(0x10000n);
    expect(mem.findRegion(0x20000n)).toBeUndefined();
    expect(mem.toRegionAddress(0x30010n)?.offset).toBe(0x10);
    expect(mem.toRegionAddress(0x30010n)?.region.start).toBe(0x30000n);
    expect(mem.toRegionAddress(END)).toBeUndefined();
  });

  it('checks addresses and ranges across adjacent regions but not across gaps', () => {
    const mem = make();
    expect(mem.checkAddress(0n)).toBe(true);
    expect(mem.checkAddress(0x1ffffn)).toBe(true);
    expect(mem.checkAddress(0x20000n)).toBe(false);
    expect(mem.checkAddress(-1n)).toBe(false);
    expect(mem.checkAddress(2n ** 64n)).toBe(false);
    expect(mem.checkRange(0xff00n, 0x200)).toBe(true);
    expect(mem.checkRange(0x1ff00n, 0x200)).toBe(false);
    expect(mem.checkRange(0x30000n, 0x1000)).toBe(true);
    expect(mem.checkRange(0x30000n, 0x1001)).toBe(false);
    expect(mem.checkRange(0x20000n, 0)).toBe(true);
    expect(() => mem.checkRange(0n, -1)).toThrow(RangeError);
  });

  it('round-trips little-endian integers, aligned, unaligned and across a region boundary', () => {
    const mem = make();
    for (const addr of [0x100n, 0x101n, 0x103n, 0xfffdn, 0xfff9n]) {
      mem.writeU16(addr, 0xbeef);
      expect(mem.readU16(addr)).toBe(0xbeef);
      mem.writeU32(addr, 0xdeadbeef);
      expect(mem.readU32(addr)).toBe(0xdeadbeef);
      mem.writeU64(addr, 0x0102030405060708n);
      expect(mem.readU64(addr)).toBe(0x0102030405060708n);
      expect(mem.readU8(addr)).toBe(0x08);
      mem.writeU8(addr, 0xaa);
      expect(mem.readU8(addr)).toBe(0xaa);
    }
    mem.writeU32(0xfffen, 0x11223344);
    expect([mem.readU8(0xfffen), mem.readU8(0xffffn), mem.readU8(0x10000n), mem.readU8(0x10001n)]).toEqual([
      0x44, 0x33, 0x22, 0x11,
    ]);
  });

  it('rejects values that do not fit the written width', () => {
    const mem = make();
    expect(() => mem.writeU8(0n, 256)).toThrow(RangeError);
    expect(() => mem.writeU16(0n, -1)).toThrow(RangeError);
    expect(() => mem.writeU32(0n, 2 ** 32)).toThrow(RangeError);
    expect(() => mem.writeU32(0n, 1.5)).toThrow(RangeError);
    expect(() => mem.writeU64(0n, 2n ** 64n)).toThrow(RangeError);
    expect(() => mem.storeU16(0n, 0x10000)).toThrow(RangeError);
    expect(() => mem.storeU64(0n, -1n)).toThrow(RangeError);
    expect(() => mem.fill(0n, 1, 300)).toThrow(RangeError);
  });

  it('fails with INVALID_ADDRESS outside memory and PARTIAL_BUFFER when running off it', () => {
    const mem = make();
    for (const addr of [0x20000n, END, -8n, 2n ** 53n, 2n ** 64n]) {
      expect(errorCode(() => mem.readU8(addr))).toBe('INVALID_ADDRESS');
      expect(errorCode(() => mem.readU32(addr))).toBe('INVALID_ADDRESS');
      expect(errorCode(() => mem.writeU64(addr, 1n))).toBe('INVALID_ADDRESS');
      expect(errorCode(() => mem.writeU8(addr, 1))).toBe('INVALID_ADDRESS');
      expect(errorCode(() => mem.read(addr, new Uint8Array(1)))).toBe('INVALID_ADDRESS');
      expect(errorCode(() => mem.loadU64(addr))).toBe('INVALID_ADDRESS');
    }
    expect(errorCode(() => mem.readU32(0x1fffen))).toBe('PARTIAL_BUFFER');
    expect(errorCode(() => mem.writeU16(0x30fffn, 1))).toBe('PARTIAL_BUFFER');
    expect(errorCode(() => mem.readU64(0x30ffcn))).toBe('PARTIAL_BUFFER');
  });

  it('copies partially up to the end of backed memory, or exactly and all-or-nothing', () => {
    const mem = make();
    const src = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    expect(mem.write(0x1fff0n, src)).toBe(16);
    const back = new Uint8Array(32);
    expect(mem.read(0x1fff0n, back)).toBe(16);
    expect([...back.subarray(0, 16)]).toEqual([...src.subarray(0, 16)]);
    expect([...back.subarray(16)]).toEqual(new Array(16).fill(0));

    const err = (() => {
      try {
        mem.writeSlice(0x30ff0n, src);
      } catch (e) {
        return e as VmMemoryError;
      }
    })();
    expect(err?.code).toBe('PARTIAL_BUFFER');
    expect([err?.expected, err?.completed, err?.address]).toEqual([32, 16, 0x30ff0n]);
    const untouched = new Uint8Array(16);
    mem.readSlice(0x30ff0n, untouched);
    expect([...untouched]).toEqual(new Array(16).fill(0)); // nothing was written
    expect(errorCode(() => mem.readSlice(0x30ff0n, back))).toBe('PARTIAL_BUFFER');
    expect(errorCode(() => mem.readSlice(0x2fff0n, back))).toBe('INVALID_ADDRESS');

    mem.writeSlice(0xfff0n, src); // spans two adjacent regions
    mem.readSlice(0xfff0n, back);
    expect([...back]).toEqual([...src]);
    expect(mem.read(0x20000n, new Uint8Array(0))).toBe(0);
    expect(mem.write(0x20000n, new Uint8Array(0))).toBe(0);
  });

  it('fills ranges exactly, across adjacent regions', () => {
    const mem = make();
    mem.fill(0xfff0n, 0x20, 0x5a);
    expect(mem.readU64(0xfff0n)).toBe(0x5a5a5a5a5a5a5a5an);
    expect(mem.readU64(0x10008n)).toBe(0x5a5a5a5a5a5a5a5an);
    expect(mem.readU8(0x10010n)).toBe(0);
    mem.fill(0xfff0n, 0x20);
    expect(mem.readU64(0x10008n)).toBe(0n);
    expect(errorCode(() => mem.fill(0x30ff0n, 0x20))).toBe('PARTIAL_BUFFER');
    expect(mem.readU8(0x30ff0n)).toBe(0);
  });

  it('does atomic loads and stores only when aligned', () => {
    const mem = make();
    mem.storeU16(0x102n, 0xabcd);
    mem.storeU32(0x104n, 0x12345678);
    mem.storeU64(0x108n, 0xfedcba9876543210n);
    expect(mem.loadU16(0x102n)).toBe(0xabcd);
    expect(mem.loadU32(0x104n)).toBe(0x12345678);
    expect(mem.loadU64(0x108n)).toBe(0xfedcba9876543210n);
    expect(mem.readU64(0x108n)).toBe(0xfedcba9876543210n);
    expect(errorCode(() => mem.loadU16(0x101n))).toBe('MISALIGNED');
    expect(errorCode(() => mem.loadU32(0x102n))).toBe('MISALIGNED');
    expect(errorCode(() => mem.loadU64(0x104n))).toBe('MISALIGNED');
    expect(errorCode(() => mem.storeU16(0x101n, 0))).toBe('MISALIGNED');
    expect(errorCode(() => mem.storeU32(0x106n, 0))).toBe('MISALIGNED');
    expect(errorCode(() => mem.storeU64(0x10cn, 0n))).toBe('MISALIGNED');
    expect(errorCode(() => mem.storeU32(0x20000n, 0))).toBe('INVALID_ADDRESS');
  });

  it('reads and writes objects through a layout, in place or across regions', () => {
    const mem = make();
    for (const addr of [0x200n, 0xfffan]) {
      mem.writeObj(addr, pairLayout, { a: 7, b: 0x1122334455667788n });
      expect(mem.readObj(addr, pairLayout)).toEqual({ a: 7, b: 0x1122334455667788n });
      expect(mem.readU32(addr)).toBe(7);
    }
    expect(errorCode(() => mem.readObj(0x30ffcn, pairLayout))).toBe('PARTIAL_BUFFER');
    expect(errorCode(() => mem.writeObj(0x20000n, pairLayout, { a: 1, b: 1n }))).toBe('INVALID_ADDRESS');
  });

  it('hands out zero-copy views checked once, single- or multi-region', () => {
    const mem = make();
    const view = mem.getWritableSlice(0x1000n, 16);
    view[0] = 0x42;
    expect(mem.readU8(0x1000n)).toBe(0x42);
    mem.writeU8(0x1001n, 0x43);
    expect(mem.getSlice(0x1000n, 2)).toEqual(Uint8Array.of(0x42, 0x43));
    expect(errorCode(() => mem.getSlice(0xfff0n, 0x20))).toBe('SPANS_REGIONS');
    expect(errorCode(() => mem.getSlice(0x1fff0n, 0x20))).toBe('PARTIAL_BUFFER');
    expect(errorCode(() => mem.getWritableSlice(END, 1))).toBe('INVALID_ADDRESS');
    expect(mem.getSlice(END, 0).length).toBe(0);
    const parts = mem.getSlices(0xfff0n, 0x20, true);
    expect(parts.map((p) => p.length)).toEqual([0x10, 0x10]);
    parts[1]![0] = 0x99;
    expect(mem.readU8(0x10000n)).toBe(0x99);
    expect(mem.getSlices(0n, 0)).toEqual([]);
    expect(errorCode(() => mem.getSlices(0x1fff0n, 0x20))).toBe('PARTIAL_BUFFER');
    expect(() => mem.getSlice(0n, -1)).toThrow(RangeError);
  });

  it('marks every page written through the API and nothing else', () => {
    const mem = make();
    const [r0, r1, r2] = mem.regions;
    for (const r of mem.regions) r.dirtyBitmap!.readAndReset();
    mem.writeU8(0x0n, 1); // page 0 of r0
    mem.writeU64(0x2ffcn, 1n); // pages 2 and 3 of r0 (unaligned, straddles)
    mem.storeU32(0x10004n, 1); // page 0 of r1
    mem.writeSlice(0xfff0n, new Uint8Array(0x20)); // page 15 of r0 and page 0 of r1
    mem.getWritableSlice(0x30800n, 4); // page 0 of r2
    mem.getSlice(0x5000n, 4); // read-only: not marked
    mem.readU32(0x6000n); // a read: not marked
    mem.fill(0x8000n, 0x1001); // pages 8 and 9
    expect(r0!.dirtyBitmap!.isDirty(0x5000)).toBe(false);
    expect(r0!.dirtyBitmap!.isDirty(0x9000)).toBe(true);
    expect(r0!.dirtyBitmap!.isDirty(0x3fff, 0x1002)).toBe(true);
    expect(r0!.dirtyBitmap!.isDirty(0x4000, 0x1000)).toBe(false);
    const take = (r: typeof r0) => DirtyBitmap.pagesOf(r!.dirtyBitmap!.readAndReset());
    expect(take(r0)).toEqual([0, 2, 3, 8, 9, 15]);
    expect(take(r1)).toEqual([0]);
    expect(take(r2)).toEqual([0]);
    expect(take(r0)).toEqual([]); // reset
    mem.markDirty(0x1fff0n, 0x10);
    expect(take(r1)).toEqual([15]);
    expect(errorCode(() => mem.markDirty(0x20000n, 1))).toBe('INVALID_ADDRESS');
  });
});
