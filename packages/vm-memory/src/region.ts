/**
 * One contiguous range of guest physical memory backed by one host buffer.
 */
import type { GuestAddress } from './address.js';
import type { DirtyBitmap } from './dirty-bitmap.js';

/**
 * The largest region: V8 (Node 20) cannot view an ArrayBuffer of more than
 * 4 GiB, so bigger RAM ranges are split into several adjacent regions.
 */
export const MAX_REGION_SIZE = 2 ** 32;

/** Where a region's pages come from, for sharing them with KVM and other threads. */
export interface RegionBacking {
  /** Host virtual address of the first byte (for `KVM_SET_USER_MEMORY_REGION`), if mapped by mmap. */
  readonly hostAddress?: bigint;
  /** The memfd that holds the pages, if any. */
  readonly fd?: number;
  /** Offset of the region's first byte in that memfd. */
  readonly fileOffset?: number;
}

/** A region as consumers see it. */
export interface GuestMemoryRegion extends RegionBacking {
  /** Guest physical address of the first byte. */
  readonly start: GuestAddress;
  /** Size in bytes. */
  readonly size: number;
  /** The first guest address past the region (`start + size`). */
  readonly end: GuestAddress;
  /**
   * The host memory, for handing to native code (e.g. `addressOf`). Writes
   * through it bypass dirty tracking; use the `GuestMemory` accessors or
   * `getWritableSlice`, which mark pages.
   */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** The region's dirty-page bitmap, when dirty tracking is on. */
  readonly dirtyBitmap: DirtyBitmap | undefined;
  /** Whether `addr` lies in the region. */
  contains(addr: bigint): boolean;
}

/** The region implementation shared by every memory of this package: typed views made once. */
export class GuestRegion implements GuestMemoryRegion {
  readonly start: GuestAddress;
  readonly size: number;
  readonly end: GuestAddress;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly dirtyBitmap: DirtyBitmap | undefined;
  readonly hostAddress?: bigint;
  readonly fd?: number;
  readonly fileOffset?: number;
  /** `start` as a number (regions end below 2^53). */
  readonly startNumber: number;
  /** `end` as a number. */
  readonly endNumber: number;
  /** Views over the whole buffer, made once. */
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
  readonly view: DataView;

  /**
   * @param start - guest address of the first byte; `start + buffer.byteLength` must be ≤ 2^53.
   * @param buffer - the host memory, at most {@link MAX_REGION_SIZE} bytes.
   */
  constructor(
    start: GuestAddress,
    buffer: ArrayBuffer | SharedArrayBuffer,
    dirtyBitmap: DirtyBitmap | undefined,
    backing: RegionBacking = {},
  ) {
    const size = buffer.byteLength;
    if (size <= 0 || size > MAX_REGION_SIZE) {
      throw new RangeError(`a region must hold 1 to ${MAX_REGION_SIZE} bytes, got ${size}`);
    }
    if (start + BigInt(size) > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`region at ${start} of ${size} bytes ends above 2^53`);
    }
    this.start = start;
    this.size = size;
    this.end = (start + BigInt(size)) as GuestAddress;
    this.buffer = buffer;
    this.dirtyBitmap = dirtyBitmap;
    if (backing.hostAddress !== undefined) this.hostAddress = backing.hostAddress;
    if (backing.fd !== undefined) this.fd = backing.fd;
    if (backing.fileOffset !== undefined) this.fileOffset = backing.fileOffset;
    this.startNumber = Number(start);
    this.endNumber = this.startNumber + size;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer, 0, Math.floor(size / 2));
    this.u32 = new Uint32Array(buffer, 0, Math.floor(size / 4));
    this.u64 = new BigUint64Array(buffer, 0, Math.floor(size / 8));
    this.view = new DataView(buffer);
  }

  contains(addr: bigint): boolean {
    return addr >= this.start && addr < this.end;
  }
}
