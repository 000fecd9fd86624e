import { describe, expect, it } from 'vitest';
import { GuestAddress, GuestRegion, GuestRegionCollection } from '../src/index.js';

const region = (start: bigint, size: number) =>
  new GuestRegion(GuestAddress(start), new ArrayBuffer(size), undefined);

describe('GuestRegion', () => {
  it('knows its bounds and which addresses it holds', () => {
    const r = region(0x1000n, 0x100);
    expect([r.start, r.size, r.end]).toEqual([0x1000n, 0x100, 0x1100n]);
    expect([r.contains(0xfffn), r.contains(0x1000n), r.contains(0x10ffn), r.contains(0x1100n)]).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(r.hostAddress).toBeUndefined();
    expect(r.dirtyBitmap).toBeUndefined();
  });

  it('rejects empty buffers and regions that end above 2^53', () => {
    expect(() => region(0n, 0)).toThrow(RangeError);
    expect(() => region(2n ** 53n - 8n, 16)).toThrow(RangeError);
  });
});

describe('GuestRegionCollection', () => {
  it('needs at least one region, 8-aligned starts, and sorted non-overlapping regions', () => {
    expect(() => new GuestRegionCollection([])).toThrow(RangeError);
    expect(() => new GuestRegionCollection([region(4n, 8)])).toThrow(/not 8-byte aligned/);
    expect(() => new GuestRegionCollection([region(0n, 16), region(8n, 8)])).toThrow(/overlaps/);
    expect(() => new GuestRegionCollection([region(16n, 8), region(0n, 8)])).toThrow(/overlaps or precedes/);
    expect(new GuestRegionCollection([region(0n, 8), region(8n, 8)]).totalSize).toBe(16);
  });
});
