/**
 * Turning user-given (start, size) ranges into region layouts, and the
 * plain descriptor a memory is shared with another thread through.
 */
import { GuestAddress } from './address.js';
import { DirtyBitmap } from './dirty-bitmap.js';
import { hex } from './errors.js';
import { MAX_REGION_SIZE } from './region.js';

/** A range of guest physical memory to back with RAM. */
export interface MemoryRange {
  /** Guest physical address of the first byte. */
  readonly start: bigint;
  /** Size in bytes. */
  readonly size: number;
}

/** Dirty-tracking choice of the memory factories: off, on, or on with a granularity. */
export type DirtyTrackingOption = boolean | { readonly pageSize?: number };

/**
 * One region of a {@link GuestMemoryDescriptor}. Structured-clonable: post
 * it to a worker and rebuild the memory there over the same pages.
 */
export interface GuestRegionDescriptor {
  readonly start: bigint;
  readonly size: number;
  /** Host address of the owner's mapping (`GuestMemoryMmap`). */
  readonly hostAddress?: bigint;
  /** The memfd holding the pages, and the region's offset in it (`GuestMemoryMmap` with a memfd). */
  readonly fd?: number;
  readonly fileOffset?: number;
  /** The pages themselves (`GuestMemoryArrayBuffer` with `shared: true`). */
  readonly buffer?: SharedArrayBuffer;
  /** The shared dirty bitmap, when tracking is on. */
  readonly dirtyBitmap?: SharedArrayBuffer;
}

/** A plain, structured-clonable description of a guest memory, for rebuilding it in another thread. */
export interface GuestMemoryDescriptor {
  readonly kind: 'mmap' | 'arraybuffer';
  /** Dirty-tracking granularity, present when tracking is on. */
  readonly dirtyPageSize?: number;
  readonly regions: readonly GuestRegionDescriptor[];
}

/** A validated region layout: sorted, non-overlapping, each at most {@link MAX_REGION_SIZE}. */
export interface RegionLayout {
  readonly start: GuestAddress;
  readonly size: number;
}

/**
 * Checks ranges and splits those larger than {@link MAX_REGION_SIZE} into
 * adjacent regions. Starts and sizes must be multiples of `align`.
 * @throws TypeError/RangeError for malformed, misaligned, overlapping or too high ranges.
 */
export function layoutRanges(ranges: readonly MemoryRange[], align: number): RegionLayout[] {
  if (!Array.isArray(ranges) || ranges.length === 0) {
    throw new TypeError('ranges must be a non-empty array of { start, size }');
  }
  const sorted = ranges
    .map((r, i) => {
      if (typeof r !== 'object' || r === null || typeof r.start !== 'bigint') {
        throw new TypeError(`ranges[${i}].start must be a bigint`);
      }
      if (!Number.isSafeInteger(r.size) || r.size <= 0) {
        throw new RangeError(`ranges[${i}].size must be a positive safe integer, got ${String(r.size)}`);
      }
      if (r.start < 0n || r.start % BigInt(align) !== 0n || r.size % align !== 0) {
        throw new RangeError(`ranges[${i}] (${hex(r.start)}, ${r.size}) is not ${align}-byte aligned`);
      }
      if (r.start + BigInt(r.size) > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RangeError(`ranges[${i}] ends above 2^53`);
      }
      return { start: r.start, size: r.size };
    })
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: RegionLayout[] = [];
  let prevEnd = -1n;
  for (const { start, size } of sorted) {
    if (start < prevEnd) throw new RangeError(`range at ${hex(start)} overlaps the range before it`);
    prevEnd = start + BigInt(size);
    for (let done = 0; done < size; done += MAX_REGION_SIZE) {
      out.push({ start: GuestAddress(start + BigInt(done)), size: Math.min(MAX_REGION_SIZE, size - done) });
    }
  }
  return out;
}

/** The dirty-bitmap page size an option asks for, or undefined for no tracking. */
export function dirtyPageSizeOf(option: DirtyTrackingOption | undefined): number | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return new DirtyBitmap(1).pageSize;
  return new DirtyBitmap(1, option.pageSize === undefined ? {} : { pageSize: option.pageSize }).pageSize;
}

/** A new or shared dirty bitmap for a region, or undefined when tracking is off. */
export function bitmapFor(
  size: number,
  pageSize: number | undefined,
  buffer?: SharedArrayBuffer,
): DirtyBitmap | undefined {
  if (pageSize === undefined) return undefined;
  return new DirtyBitmap(size, buffer === undefined ? { pageSize } : { pageSize, buffer });
}
