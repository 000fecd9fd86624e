/**
 * Guest physical addresses.
 *
 * A {@link GuestAddress} is a branded `bigint`: it costs nothing at run time,
 * compares with `<` and `===`, works as a `Map` key, and a plain bigint is
 * accepted wherever an address is read. The brand only marks values that went
 * through a check, e.g. `GuestAddress(0x1000n)` or `GuestAddress.add(a, 8)`.
 *
 * Address arithmetic never wraps: the `checked*` functions return `undefined`
 * where the result would leave [0, 2^64), and their throwing twins (`add`,
 * `sub`, `offsetFrom`, `alignUp`) throw a `VmMemoryError` with code
 * `ADDRESS_OVERFLOW`.
 */
import { hex, VmMemoryError } from './errors.js';

declare const guestAddressBrand: unique symbol;
declare const regionAddressBrand: unique symbol;

/** A guest physical address in [0, 2^64): a bigint checked on creation. */
export type GuestAddress = bigint & { readonly [guestAddressBrand]: true };

/** An offset inside one memory region, in [0, region size): a number checked on creation. */
export type MemoryRegionAddress = number & { readonly [regionAddressBrand]: true };

const U64_MAX = 0xffff_ffff_ffff_ffffn;

function toBigInt(value: bigint | number, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be a bigint or a safe integer, got ${String(value)}`);
  }
  return BigInt(value);
}

function checkAlignment(align: bigint | number): bigint {
  const a = toBigInt(align, 'alignment');
  if (a <= 0n || (a & (a - 1n)) !== 0n) throw new RangeError(`alignment must be a power of two, got ${a}`);
  return a;
}

function overflow(op: string, a: bigint, b: bigint): VmMemoryError {
  return new VmMemoryError(
    'ADDRESS_OVERFLOW',
    `${op}(${hex(a)}, ${hex(b)}) leaves the 64-bit address space`,
    {
      address: a,
    },
  );
}

/** The functions that come with {@link GuestAddress}; see each for its contract. */
export interface GuestAddressFunctions {
  /**
   * Checks that `value` is a 64-bit unsigned integer and brands it.
   * @throws TypeError if it is not an integer; RangeError if it is negative or ≥ 2^64.
   */
  (value: bigint | number): GuestAddress;
  /** The highest guest address, 2^64 - 1. */
  readonly MAX: GuestAddress;
  /** `addr + offset`, or `undefined` if that is ≥ 2^64 or < 0. */
  checkedAdd(addr: bigint, offset: bigint | number): GuestAddress | undefined;
  /** `addr - offset`, or `undefined` if that is < 0 or ≥ 2^64. */
  checkedSub(addr: bigint, offset: bigint | number): GuestAddress | undefined;
  /** How far `addr` lies above `base`, or `undefined` if it lies below. */
  checkedOffsetFrom(addr: bigint, base: bigint): bigint | undefined;
  /** `addr` rounded up to a multiple of `align` (a power of two), or `undefined` past 2^64 - 1. */
  checkedAlignUp(addr: bigint, align: bigint | number): GuestAddress | undefined;
  /** Like {@link GuestAddressFunctions.checkedAdd}, but throws `ADDRESS_OVERFLOW` instead. */
  add(addr: bigint, offset: bigint | number): GuestAddress;
  /** Like {@link GuestAddressFunctions.checkedSub}, but throws `ADDRESS_OVERFLOW` instead. */
  sub(addr: bigint, offset: bigint | number): GuestAddress;
  /** Like {@link GuestAddressFunctions.checkedOffsetFrom}, but throws `ADDRESS_OVERFLOW` instead. */
  offsetFrom(addr: bigint, base: bigint): bigint;
  /** Like {@link GuestAddressFunctions.checkedAlignUp}, but throws `ADDRESS_OVERFLOW` instead. */
  alignUp(addr: bigint, align: bigint | number): GuestAddress;
  /** `addr` rounded down to a multiple of `align` (a power of two); cannot overflow. */
  alignDown(addr: bigint, align: bigint | number): GuestAddress;
  /** Whether `addr` is a multiple of `align` (a power of two). */
  isAligned(addr: bigint, align: bigint | number): boolean;
}

function make(value: bigint | number): GuestAddress {
  const v = toBigInt(value, 'a guest address');
  if (v < 0n || v > U64_MAX) throw new RangeError(`guest address ${v} is outside [0, 2^64)`);
  return v as GuestAddress;
}

function inRange(v: bigint): GuestAddress | undefined {
  return v < 0n || v > U64_MAX ? undefined : (v as GuestAddress);
}

/**
 * Creates and does arithmetic on guest physical addresses; see
 * {@link GuestAddressFunctions}.
 *
 * @example
 * ```ts
 * const a = GuestAddress(0x1000n);
 * GuestAddress.add(a, 0x200);                 // 0x1200n
 * GuestAddress.checkedAdd(GuestAddress.MAX, 1); // undefined
 * ```
 */
export const GuestAddress: GuestAddressFunctions = Object.assign(make, {
  MAX: U64_MAX as GuestAddress,
  checkedAdd: (addr: bigint, offset: bigint | number) => inRange(addr + toBigInt(offset, 'offset')),
  checkedSub: (addr: bigint, offset: bigint | number) => inRange(addr - toBigInt(offset, 'offset')),
  checkedOffsetFrom: (addr: bigint, base: bigint) => (addr >= base ? addr - base : undefined),
  checkedAlignUp(addr: bigint, align: bigint | number) {
    const a = checkAlignment(align);
    return inRange((addr + a - 1n) & ~(a - 1n));
  },
  add(addr: bigint, offset: bigint | number) {
    const o = toBigInt(offset, 'offset');
    const r = inRange(addr + o);
    if (r === undefined) throw overflow('add', addr, o);
    return r;
  },
  sub(addr: bigint, offset: bigint | number) {
    const o = toBigInt(offset, 'offset');
    const r = inRange(addr - o);
    if (r === undefined) throw overflow('sub', addr, o);
    return r;
  },
  offsetFrom(addr: bigint, base: bigint) {
    if (addr < base) throw overflow('offsetFrom', addr, base);
    return addr - base;
  },
  alignUp(addr: bigint, align: bigint | number) {
    const a = checkAlignment(align);
    const r = inRange((addr + a - 1n) & ~(a - 1n));
    if (r === undefined) throw overflow('alignUp', addr, a);
    return r;
  },
  alignDown: (addr: bigint, align: bigint | number) => (addr & ~(checkAlignment(align) - 1n)) as GuestAddress,
  isAligned: (addr: bigint, align: bigint | number) => (addr & (checkAlignment(align) - 1n)) === 0n,
});

/**
 * Brands an offset inside a region.
 * @throws TypeError unless `value` is a non-negative safe integer.
 */
export function MemoryRegionAddress(value: number): MemoryRegionAddress {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`a region address must be a non-negative safe integer, got ${String(value)}`);
  }
  return value as MemoryRegionAddress;
}
