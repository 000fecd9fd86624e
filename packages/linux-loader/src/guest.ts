/**
 * The few guest-memory operations the loader needs, on top of vm-memory's
 * `GuestMemory`: checking that a range is RAM before anything is written, and
 * streaming image bytes into guest memory through zero-copy views.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { hex, LinuxLoaderError, type LinuxLoaderErrorCode } from './errors.js';
import type { ImageSource } from './image-source.js';

/** A range of guest physical addresses, `[start, end)`. */
export interface AddressRange {
  /** First address of the range. */
  readonly start: bigint;
  /** First address past the range. */
  readonly end: bigint;
}

/** 2^32: the first address a 32-bit boot field cannot hold. */
export const FOUR_GIB = 0x1_0000_0000n;

/** Throws a TypeError unless `value` is a u64 bigint; returns it. */
export function u64(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${what} must be a bigint`);
  if (value < 0n || value >= 1n << 64n) throw new RangeError(`${what} ${value} is outside [0, 2^64)`);
  return value;
}

/** Throws a TypeError/RangeError unless `value` is an integer in [0, max]; returns it. */
export function uint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer`);
  if (value < 0 || value > max) throw new RangeError(`${what} ${value} is outside [0, ${max}]`);
  return value;
}

/**
 * Throws `code` unless every byte of `[start, start + length)` is backed by
 * guest memory (adjacent regions count as one range).
 */
export function requireRam(
  mem: GuestMemory,
  start: bigint,
  length: bigint,
  code: LinuxLoaderErrorCode,
  what: string,
): void {
  const end = start + length;
  if (length <= 0n || length > BigInt(Number.MAX_SAFE_INTEGER) || !mem.checkRange(start, Number(length))) {
    throw new LinuxLoaderError(code, `${what} [${hex(start)}, ${hex(end)}) is not inside guest RAM`);
  }
}

/** Throws `ADDRESS_ABOVE_4G`-style errors for 32-bit fields: `end` must be ≤ 4 GiB. */
export function requireBelow4G(end: bigint, what: string): void {
  if (end > FOUR_GIB) {
    throw new LinuxLoaderError(
      'ADDRESS_ABOVE_4G',
      `${what} ends at ${hex(end)}, above what a 32-bit field can hold`,
    );
  }
}

/**
 * Copies `length` image bytes from `position` to guest `addr` through
 * zero-copy views (one per region crossed). The range must have been checked.
 */
export function copyToGuest(
  mem: GuestMemory,
  addr: bigint,
  source: ImageSource,
  position: number,
  length: number,
): void {
  if (length === 0) return;
  let offset = position;
  for (const view of mem.getSlices(addr, length, true)) {
    source.read(view, offset);
    offset += view.byteLength;
  }
}

/** The smallest range holding both `a` and `b`. */
export function spanOf(a: AddressRange, b: AddressRange): AddressRange {
  let { start, end } = a;
  if (b.start < start) start = b.start;
  if (b.end > end) end = b.end;
  return { start, end };
}

/** Guest RAM as maximal runs of adjacent regions, sorted. */
export function ramRuns(mem: GuestMemory): AddressRange[] {
  const runs: AddressRange[] = [];
  for (const r of mem.regions) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.end === r.start) runs[runs.length - 1] = { start: last.start, end: r.end };
    else runs.push({ start: r.start, end: r.end });
  }
  return runs;
}

/** `ranges` with every part of `cut` removed. */
export function subtractRange(ranges: readonly AddressRange[], cut: AddressRange): AddressRange[] {
  const out: AddressRange[] = [];
  for (const r of ranges) {
    if (cut.end <= r.start || cut.start >= r.end) {
      out.push(r);
      continue;
    }
    if (r.start < cut.start) out.push({ start: r.start, end: cut.start });
    if (cut.end < r.end) out.push({ start: cut.end, end: r.end });
  }
  return out;
}
