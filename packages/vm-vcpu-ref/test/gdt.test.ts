import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BOOT_GDT,
  CODE32,
  CODE64,
  DATA,
  decodeDescriptor,
  encodeDescriptor,
  gdtBytes,
  kvmSegment,
  SELECTOR,
  TSS,
} from '../src/gdt.js';

describe('segment descriptors', () => {
  it('encode the flat boot segments as the SDM lays them out', () => {
    // base 0, limit 0xfffff, G=1: 64-bit code (L=1, access 0x9b), 32-bit code (D=1), data (access 0x93)
    expect(encodeDescriptor(CODE64)).toBe(0x00af9b000000ffffn);
    expect(encodeDescriptor(CODE32)).toBe(0x00cf9b000000ffffn);
    expect(encodeDescriptor(DATA)).toBe(0x00cf93000000ffffn);
    expect(encodeDescriptor(TSS)).toBe(0x00008b0000000067n);
  });

  it('round-trip any descriptor', () => {
    const bit = fc.integer({ min: 0, max: 1 });
    fc.assert(
      fc.property(
        fc.record({
          base: fc.integer({ min: 0, max: 0xffffffff }),
          limit: fc.integer({ min: 0, max: 0xfffff }),
          type: fc.integer({ min: 0, max: 15 }),
          s: bit,
          dpl: fc.integer({ min: 0, max: 3 }),
          present: bit,
          avl: bit,
          l: bit,
          db: bit,
          g: bit,
        }),
        (d) => {
          expect(decodeDescriptor(encodeDescriptor(d))).toEqual(d);
        },
      ),
    );
  });

  it('refuse what does not fit', () => {
    expect(() => encodeDescriptor({ ...DATA, limit: 0x100000 })).toThrow(RangeError);
    expect(() => encodeDescriptor({ ...DATA, base: 2 ** 32 })).toThrow(RangeError);
  });

  it('become KVM segments with byte-granular limits', () => {
    expect(kvmSegment(SELECTOR.CODE64, CODE64)).toMatchObject({
      selector: 0x10,
      limit: 0xffffffff,
      l: 1,
      db: 0,
      type: 0xb,
      unusable: 0,
    });
    expect(kvmSegment(SELECTOR.TSS, TSS)).toMatchObject({ limit: 0x67, s: 0, g: 0 });
  });

  it('put __BOOT_CS at 0x10 and __BOOT_DS at 0x18 as the boot protocol asks', () => {
    const bytes = new DataView(gdtBytes().buffer);
    expect(bytes.byteLength).toBe(BOOT_GDT.length * 8);
    expect(bytes.getBigUint64(0, true)).toBe(0n);
    expect(decodeDescriptor(bytes.getBigUint64(0x10, true))).toEqual(CODE64);
    expect(decodeDescriptor(bytes.getBigUint64(0x18, true))).toEqual(DATA);
  });
});
