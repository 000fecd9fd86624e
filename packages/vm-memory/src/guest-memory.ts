/**
 * The interface every consumer of guest memory programs against (devices,
 * virtqueues, loaders). Both `GuestMemoryMmap` (real, shared mappings) and
 * `GuestMemoryArrayBuffer` (plain buffers, for tests and code that never
 * touches KVM) implement it.
 *
 * Addresses are guest physical addresses as bigints (a `GuestAddress` or any
 * bigint). Every access is bounds-checked against the regions; nothing can
 * reach host memory outside them. Failures a guest can cause throw a
 * `VmMemoryError`: `INVALID_ADDRESS` when the first byte is not backed,
 * `PARTIAL_BUFFER` when an exact access runs off backed memory (nothing is
 * transferred then).
 */
import type { MemoryRegionAddress } from './address.js';
import type { ObjectLayout } from './layout.js';
import type { GuestMemoryRegion } from './region.js';

/** Guest physical memory: sorted, non-overlapping regions with possible gaps. */
export interface GuestMemory {
  /** The regions, sorted by address. */
  readonly regions: readonly GuestMemoryRegion[];
  /** Total bytes over all regions. */
  readonly totalSize: number;

  /** The region that holds `addr`, if any. */
  findRegion(addr: bigint): GuestMemoryRegion | undefined;
  /** The region that holds `addr` and the offset of `addr` in it, if any. */
  toRegionAddress(addr: bigint): { region: GuestMemoryRegion; offset: MemoryRegionAddress } | undefined;
  /** Whether `addr` is backed by a region. */
  checkAddress(addr: bigint): boolean;
  /** Whether every byte of `[addr, addr + length)` is backed (regions may be adjacent). */
  checkRange(addr: bigint, length: number): boolean;

  /**
   * Copies guest bytes from `addr` into `buf` up to the first unbacked byte;
   * returns how many were copied.
   * @throws VmMemoryError `INVALID_ADDRESS` if `addr` itself is not backed (and `buf` is not empty).
   */
  read(addr: bigint, buf: Uint8Array): number;
  /** Fills all of `buf` from `addr`; throws `INVALID_ADDRESS` or `PARTIAL_BUFFER` (copying nothing) otherwise. */
  readSlice(addr: bigint, buf: Uint8Array): void;
  /** Copies `buf` to guest memory at `addr` up to the first unbacked byte; returns how many were copied. */
  write(addr: bigint, buf: Uint8Array): number;
  /** Writes all of `buf` at `addr`; throws `INVALID_ADDRESS` or `PARTIAL_BUFFER` (writing nothing) otherwise. */
  writeSlice(addr: bigint, buf: Uint8Array): void;
  /** Sets `length` bytes at `addr` to `value` (default 0), exactly. */
  fill(addr: bigint, length: number, value?: number): void;

  /** Reads a u8. */
  readU8(addr: bigint): number;
  /** Reads a little-endian u16; one access when aligned. */
  readU16(addr: bigint): number;
  /** Reads a little-endian u32; one access when aligned. */
  readU32(addr: bigint): number;
  /** Reads a little-endian u64; one access when aligned. */
  readU64(addr: bigint): bigint;
  /** Writes a u8. @throws RangeError if `value` is not a u8. */
  writeU8(addr: bigint, value: number): void;
  /** Writes a little-endian u16; one access when aligned. @throws RangeError if `value` is not a u16. */
  writeU16(addr: bigint, value: number): void;
  /** Writes a little-endian u32; one access when aligned. @throws RangeError if `value` is not a u32. */
  writeU32(addr: bigint, value: number): void;
  /** Writes a little-endian u64; one access when aligned. @throws RangeError if `value` is not a u64. */
  writeU64(addr: bigint, value: bigint): void;

  /**
   * Atomic (sequentially consistent) load of an aligned u16, e.g. a virtqueue
   * index the driver publishes. @throws VmMemoryError `MISALIGNED` if unaligned.
   */
  loadU16(addr: bigint): number;
  /** Atomic load of an aligned u32. */
  loadU32(addr: bigint): number;
  /** Atomic load of an aligned u64. */
  loadU64(addr: bigint): bigint;
  /**
   * Atomic (sequentially consistent) store of an aligned u16: every write
   * made before it is visible to an observer that sees this value, and no
   * later load moves before it (a full fence on x86).
   */
  storeU16(addr: bigint, value: number): void;
  /** Atomic store of an aligned u32. */
  storeU32(addr: bigint, value: number): void;
  /** Atomic store of an aligned u64. */
  storeU64(addr: bigint, value: bigint): void;

  /** Decodes an object at `addr` through its layout (in place when it lies in one region). */
  readObj<T>(addr: bigint, layout: ObjectLayout<T>): T;
  /** Encodes an object at `addr` through its layout. */
  writeObj<T>(addr: bigint, layout: ObjectLayout<T>, value: T): void;

  /**
   * A zero-copy view of `[addr, addr + length)` for reading, checked once.
   * @throws VmMemoryError `SPANS_REGIONS` if the range crosses into another region,
   *   `INVALID_ADDRESS`/`PARTIAL_BUFFER` if it is not backed.
   */
  getSlice(addr: bigint, length: number): Uint8Array;
  /** Like {@link GuestMemory.getSlice}, for writing: the range is marked dirty now. */
  getWritableSlice(addr: bigint, length: number): Uint8Array;
  /**
   * Zero-copy views that together cover `[addr, addr + length)`, one per
   * region crossed (for `readv`/`writev`-style backends). With `writable`
   * the range is marked dirty.
   */
  getSlices(addr: bigint, length: number, writable?: boolean): Uint8Array[];
  /** Marks `[addr, addr + length)` dirty after writing it some way this interface did not see. */
  markDirty(addr: bigint, length: number): void;
}
