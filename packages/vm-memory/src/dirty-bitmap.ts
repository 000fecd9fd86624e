/**
 * Dirty-page tracking for one region: one bit per page, in a
 * SharedArrayBuffer so that every thread that writes guest memory through
 * this package marks the same bitmap (with `Atomics.or`).
 *
 * The bit layout is KVM's (`KVM_GET_DIRTY_LOG`): page `i` is bit `i % 8` of
 * byte `i / 8`, so on this little-endian host the words can be merged with a
 * KVM dirty log as they are.
 */

/** The default tracking granularity: the x86 base page. */
export const DIRTY_PAGE_SIZE = 4096;

/** Options of {@link DirtyBitmap}. */
export interface DirtyBitmapOptions {
  /** Tracking granularity in bytes, a power of two; default {@link DIRTY_PAGE_SIZE}. */
  pageSize?: number;
  /** An existing bitmap to share (e.g. received from another thread); default a new zeroed one. */
  buffer?: SharedArrayBuffer;
}

/** A per-region bitmap of written pages; see the module comment. */
export class DirtyBitmap {
  /** Bytes per tracked page. */
  readonly pageSize: number;
  /** How many pages the region has (the last one may be partial). */
  readonly pages: number;
  /** The shared words; bit `i % 32` of word `i / 32` is page `i`. */
  readonly words: Uint32Array;

  /**
   * @param regionSize - the size of the tracked region in bytes.
   * @throws RangeError if `pageSize` is not a power of two, or a given buffer has the wrong size.
   */
  constructor(regionSize: number, options: DirtyBitmapOptions = {}) {
    const pageSize = options.pageSize ?? DIRTY_PAGE_SIZE;
    if (!Number.isSafeInteger(regionSize) || regionSize <= 0) {
      throw new RangeError(`regionSize must be a positive safe integer, got ${regionSize}`);
    }
    if (!Number.isSafeInteger(pageSize) || pageSize <= 0 || (pageSize & (pageSize - 1)) !== 0) {
      throw new RangeError(`pageSize must be a power of two, got ${pageSize}`);
    }
    this.pageSize = pageSize;
    this.pages = Math.ceil(regionSize / pageSize);
    const bytes = Math.ceil(this.pages / 32) * 4;
    const buffer = options.buffer ?? new SharedArrayBuffer(bytes);
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== bytes) {
      throw new RangeError(
        `a dirty bitmap of ${this.pages} pages needs a SharedArrayBuffer of ${bytes} bytes`,
      );
    }
    this.words = new Uint32Array(buffer);
  }

  /** The shared storage, to hand to another thread. */
  get buffer(): SharedArrayBuffer {
    return this.words.buffer as SharedArrayBuffer;
  }

  /** Marks every page that `[offset, offset + length)` touches. The range must lie in the region. */
  mark(offset: number, length: number): void {
    if (length <= 0) return;
    const first = Math.floor(offset / this.pageSize);
    const last = Math.floor((offset + length - 1) / this.pageSize);
    const words = this.words;
    let w = first >>> 5;
    const lastWord = last >>> 5;
    for (; w <= lastWord; w++) {
      const lo = w === first >>> 5 ? first & 31 : 0;
      const hi = w === lastWord ? last & 31 : 31;
      const mask = hi - lo === 31 ? 0xffffffff : ((1 << (hi - lo + 1)) - 1) << lo;
      // A plain load first: most writes hit pages already dirty, and a locked
      // read-modify-write costs far more than a load.
      if ((words[w]! & mask) >>> 0 !== mask >>> 0) Atomics.or(words, w, mask);
    }
  }

  /** Whether any page that `[offset, offset + length)` touches is dirty. */
  isDirty(offset: number, length = 1): boolean {
    const first = Math.floor(offset / this.pageSize);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / this.pageSize);
    for (let p = first; p <= last && p < this.pages; p++) {
      if ((Atomics.load(this.words, p >>> 5) >>> (p & 31)) & 1) return true;
    }
    return false;
  }

  /**
   * Returns the bitmap as it was and clears it, word by word with
   * `Atomics.exchange`, so that a page written meanwhile is either in the
   * result or still marked afterwards, never lost.
   */
  readAndReset(): Uint32Array {
    const out = new Uint32Array(this.words.length);
    for (let i = 0; i < out.length; i++) out[i] = Atomics.exchange(this.words, i, 0);
    return out;
  }

  /** The indexes of the dirty pages in a bitmap returned by {@link DirtyBitmap.readAndReset}. */
  static pagesOf(bitmap: Uint32Array): number[] {
    const pages: number[] = [];
    for (let w = 0; w < bitmap.length; w++) {
      let word = bitmap[w]!;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        pages.push(w * 32 + bit);
        word &= word - 1;
      }
    }
    return pages;
  }
}
