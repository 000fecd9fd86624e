import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestAddress, MemoryRegionAddress, VmMemoryError } from '../src/index.js';

const U64_MAX = 2n ** 64n - 1n;
const u64 = fc.bigInt({ min: 0n, max: U64_MAX });

function overflowCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VmMemoryError);
    return (err as VmMemoryError).code;
  }
}

describe('GuestAddress', () => {
  it('accepts 64-bit unsigned values as bigints or safe integers', () => {
    expect(GuestAddress(0x1000)).toBe(0x1000n);
    expect(GuestAddress(U64_MAX)).toBe(U64_MAX);
    expect(GuestAddress.MAX).toBe(U64_MAX);
  });

  it('rejects values outside [0, 2^64) and non-integers', () => {
    expect(() => GuestAddress(-1n)).toThrow(RangeError);
    expect(() => GuestAddress(2n ** 64n)).toThrow(RangeError);
    expect(() => GuestAddress(1.5)).toThrow(TypeError);
    expect(() => GuestAddress('1' as unknown as number)).toThrow(TypeError);
  });

  it('adds and subtracts exactly when the result stays in range, and fails instead of wrapping', () => {
    fc.assert(
      fc.property(u64, u64, (a, b) => {
        const sum = a + b;
        expect(GuestAddress.checkedAdd(a, b)).toBe(sum <= U64_MAX ? sum : undefined);
        if (sum <= U64_MAX) expect(GuestAddress.add(a, b)).toBe(sum);
        else expect(overflowCode(() => GuestAddress.add(a, b))).toBe('ADDRESS_OVERFLOW');
        const diff = a - b;
        expect(GuestAddress.checkedSub(a, b)).toBe(diff >= 0n ? diff : undefined);
        if (diff >= 0n) expect(GuestAddress.sub(a, b)).toBe(diff);
        else expect(overflowCode(() => GuestAddress.sub(a, b))).toBe('ADDRESS_OVERFLOW');
        expect(GuestAddress.checkedOffsetFrom(a, b)).toBe(diff >= 0n ? diff : undefined);
        if (diff >= 0n) expect(GuestAddress.offsetFrom(a, b)).toBe(diff);
        else expect(overflowCode(() => GuestAddress.offsetFrom(a, b))).toBe('ADDRESS_OVERFLOW');
      }),
    );
  });

  it('treats a negative offset as a move the other way, still checked', () => {
    expect(GuestAddress.checkedAdd(0x10n, -0x10)).toBe(0n);
    expect(GuestAddress.checkedAdd(0x10n, -0x11)).toBeUndefined();
    expect(GuestAddress.checkedSub(U64_MAX, -1n)).toBeUndefined();
  });

  it('aligns up and down to powers of two and reports overflow at the top', () => {
    fc.assert(
      fc.property(u64, fc.integer({ min: 0, max: 63 }), (a, shift) => {
        const align = 1n << BigInt(shift);
        const down = (a / align) * align;
        const up = down === a ? a : down + align;
        expect(GuestAddress.alignDown(a, align)).toBe(down);
        expect(GuestAddress.isAligned(a, align)).toBe(down === a);
        expect(GuestAddress.checkedAlignUp(a, align)).toBe(up <= U64_MAX ? up : undefined);
        if (up <= U64_MAX) expect(GuestAddress.alignUp(a, align)).toBe(up);
        else expect(overflowCode(() => GuestAddress.alignUp(a, align))).toBe('ADDRESS_OVERFLOW');
      }),
    );
  });

  it('rejects alignments that are not powers of two', () => {
    for (const bad of [0, 3, -4, 12n]) {
      expect(() => GuestAddress.alignUp(0n, bad)).toThrow(RangeError);
      expect(() => GuestAddress.checkedAlignUp(0n, bad)).toThrow(RangeError);
      expect(() => GuestAddress.alignDown(0n, bad)).toThrow(RangeError);
      expect(() => GuestAddress.isAligned(0n, bad)).toThrow(RangeError);
    }
    expect(() => GuestAddress.add(0n, 0.5)).toThrow(TypeError);
  });

  it('names the operation and the operands in an overflow error', () => {
    const err = (() => {
      try {
        GuestAddress.add(U64_MAX, 2);
      } catch (e) {
        return e as VmMemoryError;
      }
    })();
    expect(err?.message).toBe('add(0xffffffffffffffff, 0x2) leaves the 64-bit address space');
    expect(err?.address).toBe(U64_MAX);
  });
});

describe('MemoryRegionAddress', () => {
  it('brands non-negative safe integers and rejects the rest', () => {
    expect(MemoryRegionAddress(4096)).toBe(4096);
    expect(() => MemoryRegionAddress(-1)).toThrow(TypeError);
    expect(() => MemoryRegionAddress(0.5)).toThrow(TypeError);
    expect(() => MemoryRegionAddress(2 ** 53)).toThrow(TypeError);
  });
});
