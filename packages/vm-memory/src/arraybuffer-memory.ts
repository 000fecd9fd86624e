/**
 * Guest memory in plain (or shared) ArrayBuffers: the same interface as
 * `GuestMemoryMmap` without any system call, for tests and for code that
 * never hands its memory to KVM.
 */
import { GuestAddress } from './address.js';
import {
  bitmapFor,
  type DirtyTrackingOption,
  dirtyPageSizeOf,
  type GuestMemoryDescriptor,
  layoutRanges,
  type MemoryRange,
} from './ranges.js';
import { GuestRegion } from './region.js';
import { GuestRegionCollection } from './region-collection.js';

/** Options of {@link GuestMemoryArrayBuffer.fromRanges}. */
export interface GuestMemoryArrayBufferOptions {
  /** Back regions with SharedArrayBuffers, so that workers can share them; default false. */
  shared?: boolean;
  /** Track written pages; default off. */
  dirtyTracking?: DirtyTrackingOption;
}

/** A {@link GuestMemory} over ArrayBuffers; see the module comment. */
export class GuestMemoryArrayBuffer extends GuestRegionCollection {
  readonly #dirtyPageSize: number | undefined;

  private constructor(regions: GuestRegion[], dirtyPageSize: number | undefined) {
    super(regions);
    this.#dirtyPageSize = dirtyPageSize;
  }

  /**
   * Zeroed memory for the given ranges. Starts and sizes must be multiples of 8.
   *
   * @example
   * ```ts
   * const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x10000 }]);
   * mem.writeU32(0x100n, 0xdeadbeef);
   * ```
   */
  static fromRanges(
    ranges: readonly MemoryRange[],
    options: GuestMemoryArrayBufferOptions = {},
  ): GuestMemoryArrayBuffer {
    const pageSize = dirtyPageSizeOf(options.dirtyTracking);
    const regions = layoutRanges(ranges, 8).map(
      ({ start, size }) =>
        new GuestRegion(
          start,
          options.shared === true ? new SharedArrayBuffer(size) : new ArrayBuffer(size),
          bitmapFor(size, pageSize),
        ),
    );
    return new GuestMemoryArrayBuffer(regions, pageSize);
  }

  /**
   * Rebuilds, in another thread, a shared memory from {@link GuestMemoryArrayBuffer.toDescriptor}:
   * the same pages and the same dirty bitmaps.
   * @throws TypeError if the descriptor is not one of a shared `GuestMemoryArrayBuffer`.
   */
  static fromDescriptor(descriptor: GuestMemoryDescriptor): GuestMemoryArrayBuffer {
    if (descriptor?.kind !== 'arraybuffer' || !Array.isArray(descriptor.regions)) {
      throw new TypeError('not a descriptor of a GuestMemoryArrayBuffer');
    }
    const pageSize = descriptor.dirtyPageSize;
    const regions = descriptor.regions.map((d, i) => {
      if (!(d.buffer instanceof SharedArrayBuffer) || d.buffer.byteLength !== d.size) {
        throw new TypeError(`regions[${i}] must carry a SharedArrayBuffer of its size`);
      }
      return new GuestRegion(GuestAddress(d.start), d.buffer, bitmapFor(d.size, pageSize, d.dirtyBitmap));
    });
    return new GuestMemoryArrayBuffer(regions, pageSize);
  }

  /**
   * A structured-clonable descriptor sharing this memory's pages and dirty bitmaps.
   * @throws TypeError unless the memory was made with `shared: true`.
   */
  toDescriptor(): GuestMemoryDescriptor {
    const regions = this.regions.map((r) => {
      if (!(r.buffer instanceof SharedArrayBuffer)) {
        throw new TypeError('only a memory made with shared: true can be described for another thread');
      }
      return {
        start: r.start,
        size: r.size,
        buffer: r.buffer,
        ...(r.dirtyBitmap === undefined ? {} : { dirtyBitmap: r.dirtyBitmap.buffer }),
      };
    });
    return {
      kind: 'arraybuffer',
      ...(this.#dirtyPageSize === undefined ? {} : { dirtyPageSize: this.#dirtyPageSize }),
      regions,
    };
  }
}
