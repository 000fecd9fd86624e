import { describe, expect, it } from 'vitest';
import { assertMmioAddress, assertPioAddress, MMIO_SPACE_END, MmioRange, PioRange } from '../src/index.js';

describe('PioRange', () => {
  it('knows its last port, what it contains and what it overlaps', () => {
    const r = new PioRange(0x3f8, 8);
    expect(r.last).toBe(0x3ff);
    expect(r.contains(0x3f8) && r.contains(0x3ff)).toBe(true);
    expect(r.contains(0x3f7) || r.contains(0x400)).toBe(false);
    expect(r.overlaps(new PioRange(0x3ff, 1))).toBe(true);
    expect(r.overlaps(new PioRange(0x400, 1))).toBe(false);
    expect(r.toString()).toBe('0x3f8..0x3ff');
    expect(new PioRange(0, 0x10000).last).toBe(0xffff);
  });

  it('rejects empty ranges, ranges past 0xffff and non-integers', () => {
    expect(() => new PioRange(0x10, 0)).toThrow(RangeError);
    expect(() => new PioRange(0xfff0, 0x11)).toThrow(RangeError);
    expect(() => new PioRange(0x10000, 1)).toThrow(RangeError);
    expect(() => new PioRange(-1, 1)).toThrow(RangeError);
    expect(() => new PioRange(1.5, 1)).toThrow(TypeError);
    expect(() => new PioRange(1, 2.5)).toThrow(TypeError);
    expect(() => assertPioAddress('1')).toThrow(TypeError);
  });
});

describe('MmioRange', () => {
  it('knows its last address, what it contains and what it overlaps', () => {
    const r = new MmioRange(0xd000_0000n, 0x1000n);
    expect(r.last).toBe(0xd000_0fffn);
    expect(r.contains(0xd000_0fffn)).toBe(true);
    expect(r.contains(0xd000_1000n)).toBe(false);
    expect(r.overlaps(new MmioRange(0xcfff_ffffn, 2n))).toBe(true);
    expect(r.overlaps(new MmioRange(0xd000_1000n, 2n))).toBe(false);
    expect(r.toString()).toBe('0xd0000000..0xd0000fff');
  });

  it('rejects empty ranges, ranges reaching 2^53 and non-bigints', () => {
    expect(() => new MmioRange(0n, 0n)).toThrow(RangeError);
    expect(() => new MmioRange(MMIO_SPACE_END - 1n, 2n)).toThrow(RangeError);
    expect(new MmioRange(MMIO_SPACE_END - 1n, 1n).last).toBe(MMIO_SPACE_END - 1n);
    expect(() => new MmioRange(-1n, 1n)).toThrow(RangeError);
    expect(() => new MmioRange(0x1000 as unknown as bigint, 1n)).toThrow(TypeError);
    expect(() => new MmioRange(0x1000n, 1 as unknown as bigint)).toThrow(TypeError);
    expect(() => assertMmioAddress(2n ** 64n)).toThrow(RangeError);
  });
});
