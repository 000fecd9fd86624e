/**
 * The accessors of {@link GuestMemory}, over any sorted set of
 * {@link GuestRegion}s. `GuestMemoryMmap` and `GuestMemoryArrayBuffer` differ
 * only in where their buffers come from.
 *
 * Fast path: an address is turned into a number once, the region of the last
 * access is tried first, then a binary search; a contiguous access inside one
 * region touches its typed views directly (aligned u16/u32/u64 through
 * `Uint16Array`/`Uint32Array`/`BigUint64Array`, one machine access each;
 * unaligned through a little-endian `DataView`). Accesses that cross region
 * boundaries and all failures take a slower path.
 */
import { MemoryRegionAddress } from './address.js';
import { hex, VmMemoryError } from './errors.js';
import type { GuestMemory } from './guest-memory.js';
import type { ObjectLayout } from './layout.js';
import type { GuestRegion } from './region.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;
/** What a layout's `write` names the value in its error messages. */
const OBJECT_WHERE = 'object written to guest memory';

/** A bigint address as a number, or -1 (never backed) if it is negative or above 2^53. */
function toNumber(addr: bigint): number {
  // Number() rounds, but monotonically: every bigint above 2^53 - 1 becomes
  // at least 2^53, so the range check on the result is exact.
  const a = Number(addr);
  return a >= 0 && a <= Number.MAX_SAFE_INTEGER ? a : -1;
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`length must be a non-negative safe integer, got ${length}`);
  }
}

function checkUint(value: number, bits: 8 | 16 | 32): void {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`value ${value} is not a u${bits}`);
  }
}

function checkU64(value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new RangeError(`value ${String(value)} is not a u64`);
  }
}

/** A {@link GuestMemory} over sorted, non-overlapping regions. */
export class GuestRegionCollection implements GuestMemory {
  readonly regions: readonly GuestRegion[];
  readonly totalSize: number;
  #closed = false;
  // The region of the last access; NaN bounds (after close) never match.
  #last: GuestRegion;
  #lastStart: number;
  #lastEnd: number;
  readonly #scratch = new Uint8Array(8);
  readonly #scratchView = new DataView(this.#scratch.buffer);

  /**
   * @param regions - sorted by start, non-overlapping, each start a multiple of 8
   *   (so that an aligned access never crosses regions). Use the factories of
   *   `GuestMemoryMmap` or `GuestMemoryArrayBuffer` rather than this directly.
   */
  constructor(regions: readonly GuestRegion[]) {
    if (regions.length === 0) throw new RangeError('guest memory needs at least one region');
    let total = 0;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      if (r.startNumber % 8 !== 0) throw new RangeError(`region start ${hex(r.start)} is not 8-byte aligned`);
      if (i > 0 && r.startNumber < regions[i - 1]!.endNumber) {
        throw new RangeError(`region at ${hex(r.start)} overlaps or precedes the one before it`);
      }
      total += r.size;
    }
    this.regions = regions;
    this.totalSize = total;
    this.#last = regions[0]!;
    this.#lastStart = this.#last.startNumber;
    this.#lastEnd = this.#last.endNumber;
  }

  /** Whether {@link GuestRegionCollection.detach} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Makes every later access fail with `CLOSED`. Subclasses call this before
   * their buffers go away, so that no access can reach a dead mapping.
   */
  protected detach(): void {
    this.#closed = true;
    this.#lastStart = Number.NaN;
    this.#lastEnd = Number.NaN;
    (this as { regions: readonly GuestRegion[] }).regions = [];
  }

  // --- lookup -------------------------------------------------------------

  /** The region holding `[a, a + length)` entirely, or undefined. `a` is a number address (or -1). */
  #find(a: number, length: number): GuestRegion | undefined {
    if (a >= this.#lastStart && a + length <= this.#lastEnd) return this.#last;
    const r = this.#containing(a);
    if (r === undefined || a + length > r.endNumber) return undefined;
    this.#last = r;
    this.#lastStart = r.startNumber;
    this.#lastEnd = r.endNumber;
    return r;
  }

  /** Binary search for the region with start ≤ a < end. */
  #containing(a: number): GuestRegion | undefined {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = regions[mid]!;
      if (a < r.startNumber) hi = mid - 1;
      else if (a >= r.endNumber) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** How many bytes from `a` on are backed, up to `length`, following adjacent regions. */
  #backedLength(a: number, length: number): number {
    let done = 0;
    while (done < length) {
      const r = this.#containing(a + done);
      if (r === undefined) break;
      done = Math.min(length, r.endNumber - a);
    }
    return done;
  }

  /** The error for an access of `length` bytes at `addr` that is not fully backed. */
  #unbacked(addr: bigint, length: number, backed: number): VmMemoryError {
    if (this.#closed) return new VmMemoryError('CLOSED', 'guest memory is closed', { address: addr });
    if (backed === 0) {
      return new VmMemoryError('INVALID_ADDRESS', `guest address ${hex(addr)} is not in guest memory`, {
        address: addr,
        expected: length,
        completed: 0,
      });
    }
    return new VmMemoryError(
      'PARTIAL_BUFFER',
      `only ${backed} of ${length} bytes at ${hex(addr)} are in guest memory`,
      { address: addr, expected: length, completed: backed },
    );
  }

  /** Throws unless `[addr, addr + length)` is fully backed; returns `addr` as a number. */
  #requireRange(addr: bigint, length: number): number {
    const a = toNumber(addr);
    const backed = a < 0 ? 0 : this.#backedLength(a, length);
    if (backed < length) throw this.#unbacked(addr, length, backed);
    return a;
  }

  findRegion(addr: bigint): GuestRegion | undefined {
    const a = toNumber(addr);
    return a < 0 ? undefined : this.#find(a, 1);
  }

  toRegionAddress(addr: bigint): { region: GuestRegion; offset: MemoryRegionAddress } | undefined {
    const a = toNumber(addr);
    const region = a < 0 ? undefined : this.#find(a, 1);
    return region === undefined ? undefined : { region, offset: MemoryRegionAddress(a - region.startNumber) };
  }

  checkAddress(addr: bigint): boolean {
    return this.findRegion(addr) !== undefined;
  }

  checkRange(addr: bigint, length: number): boolean {
    checkLength(length);
    if (length === 0) return true;
    const a = toNumber(addr);
    if (a < 0) return false;
    return this.#find(a, length) !== undefined || this.#backedLength(a, length) === length;
  }

  // --- byte copies --------------------------------------------------------

  /**
   * Calls `fn` for each region's piece of the fully backed range `[a, a + n)`:
   * the region, the offset in it, the piece's length, and the bytes before it.
   */
  #pieces(a: number, n: number, fn: (r: GuestRegion, off: number, len: number, done: number) => void): void {
    let done = 0;
    while (done < n) {
      const r = this.#containing(a + done)!;
      const off = a + done - r.startNumber;
      const len = Math.min(n - done, r.size - off);
      fn(r, off, len, done);
      done += len;
    }
  }

  /** Copies between guest `[a, a + n)` (fully backed) and `buf`; marks dirty when writing. */
  #copy(a: number, buf: Uint8Array, n: number, toGuest: boolean): void {
    this.#pieces(a, n, (r, off, len, done) => {
      if (toGuest) {
        r.u8.set(buf.subarray(done, done + len), off);
        r.dirtyBitmap?.mark(off, len);
      } else {
        buf.set(r.u8.subarray(off, off + len), done);
      }
    });
  }

  read(addr: bigint, buf: Uint8Array): number {
    const n = buf.length;
    if (n === 0) return 0;
    const a = toNumber(addr);
    const r = this.#find(a, n);
    if (r !== undefined) {
      const off = a - r.startNumber;
      buf.set(r.u8.subarray(off, off + n));
      return n;
    }
    const backed = a < 0 ? 0 : this.#backedLength(a, n);
    if (backed === 0) throw this.#unbacked(addr, n, 0);
    this.#copy(a, buf, backed, false);
    return backed;
  }

  readSlice(addr: bigint, buf: Uint8Array): void {
    const n = buf.length;
    if (n === 0) return;
    const a = toNumber(addr);
    const r = this.#find(a, n);
    if (r !== undefined) {
      const off = a - r.startNumber;
      buf.set(r.u8.subarray(off, off + n));
      return;
    }
    this.#copy(this.#requireRange(addr, n), buf, n, false);
  }

  write(addr: bigint, buf: Uint8Array): number {
    const n = buf.length;
    if (n === 0) return 0;
    const a = toNumber(addr);
    const r = this.#find(a, n);
    if (r !== undefined) {
      const off = a - r.startNumber;
      r.u8.set(buf, off);
      r.dirtyBitmap?.mark(off, n);
      return n;
    }
    const backed = a < 0 ? 0 : this.#backedLength(a, n);
    if (backed === 0) throw this.#unbacked(addr, n, 0);
    this.#copy(a, buf, backed, true);
    return backed;
  }

  writeSlice(addr: bigint, buf: Uint8Array): void {
    const n = buf.length;
    if (n === 0) return;
    const a = toNumber(addr);
    const r = this.#find(a, n);
    if (r !== undefined) {
      const off = a - r.startNumber;
      r.u8.set(buf, off);
      r.dirtyBitmap?.mark(off, n);
      return;
    }
    this.#copy(this.#requireRange(addr, n), buf, n, true);
  }

  fill(addr: bigint, length: number, value = 0): void {
    checkLength(length);
    checkUint(value, 8);
    if (length === 0) return;
    this.#pieces(this.#requireRange(addr, length), length, (r, off, len) => {
      r.u8.fill(value, off, off + len);
      r.dirtyBitmap?.mark(off, len);
    });
  }

  // --- numbers ------------------------------------------------------------
  // Each width is written out on purpose: one typed array per method keeps
  // every access monomorphic, which a shared generic helper would not.

  /** Reads `size` bytes that are not inside one region into the scratch buffer (or throws). */
  #readScratch(addr: bigint, size: number): DataView {
    const buf = this.#scratch.subarray(0, size);
    this.#copy(this.#requireRange(addr, size), buf, size, false);
    return this.#scratchView;
  }

  /** Writes the first `size` scratch bytes to a range that is not inside one region (or throws). */
  #writeScratch(addr: bigint, size: number): void {
    this.#copy(this.#requireRange(addr, size), this.#scratch.subarray(0, size), size, true);
  }

  readU8(addr: bigint): number {
    const a = toNumber(addr);
    const r = this.#find(a, 1);
    if (r === undefined) throw this.#unbacked(addr, 1, 0);
    return r.u8[a - r.startNumber]!;
  }

  readU16(addr: bigint): number {
    const a = toNumber(addr);
    const r = this.#find(a, 2);
    if (r === undefined) return this.#readScratch(addr, 2).getUint16(0, true);
    const off = a - r.startNumber;
    return (off & 1) === 0 ? r.u16[off >>> 1]! : r.view.getUint16(off, true);
  }

  readU32(addr: bigint): number {
    const a = toNumber(addr);
    const r = this.#find(a, 4);
    if (r === undefined) return this.#readScratch(addr, 4).getUint32(0, true);
    const off = a - r.startNumber;
    return (off & 3) === 0 ? r.u32[off >>> 2]! : r.view.getUint32(off, true);
  }

  readU64(addr: bigint): bigint {
    const a = toNumber(addr);
    const r = this.#find(a, 8);
    if (r === undefined) return this.#readScratch(addr, 8).getBigUint64(0, true);
    const off = a - r.startNumber;
    return (off & 7) === 0 ? r.u64[off >>> 3]! : r.view.getBigUint64(off, true);
  }

  writeU8(addr: bigint, value: number): void {
    checkUint(value, 8);
    const a = toNumber(addr);
    const r = this.#find(a, 1);
    if (r === undefined) throw this.#unbacked(addr, 1, 0);
    const off = a - r.startNumber;
    r.u8[off] = value;
    r.dirtyBitmap?.mark(off, 1);
  }

  writeU16(addr: bigint, value: number): void {
    checkUint(value, 16);
    const a = toNumber(addr);
    const r = this.#find(a, 2);
    if (r === undefined) {
      this.#scratchView.setUint16(0, value, true);
      this.#writeScratch(addr, 2);
      return;
    }
    const off = a - r.startNumber;
    if ((off & 1) === 0) r.u16[off >>> 1] = value;
    else r.view.setUint16(off, value, true);
    r.dirtyBitmap?.mark(off, 2);
  }

  writeU32(addr: bigint, value: number): void {
    checkUint(value, 32);
    const a = toNumber(addr);
    const r = this.#find(a, 4);
    if (r === undefined) {
      this.#scratchView.setUint32(0, value, true);
      this.#writeScratch(addr, 4);
      return;
    }
    const off = a - r.startNumber;
    if ((off & 3) === 0) r.u32[off >>> 2] = value;
    else r.view.setUint32(off, value, true);
    r.dirtyBitmap?.mark(off, 4);
  }

  writeU64(addr: bigint, value: bigint): void {
    checkU64(value);
    const a = toNumber(addr);
    const r = this.#find(a, 8);
    if (r === undefined) {
      this.#scratchView.setBigUint64(0, value, true);
      this.#writeScratch(addr, 8);
      return;
    }
    const off = a - r.startNumber;
    if ((off & 7) === 0) r.u64[off >>> 3] = value;
    else r.view.setBigUint64(off, value, true);
    r.dirtyBitmap?.mark(off, 8);
  }

  // --- atomics ------------------------------------------------------------

  /** The region for an aligned atomic access of `size` bytes at `addr`, or throws. */
  #atomic(addr: bigint, a: number, size: number): GuestRegion {
    if ((a & (size - 1)) !== 0 && a >= 0) {
      throw new VmMemoryError('MISALIGNED', `${size}-byte atomic access at ${hex(addr)} is not aligned`, {
        address: addr,
        expected: size,
      });
    }
    const r = this.#find(a, size);
    if (r !== undefined) return r;
    // Regions start 8-aligned, so an aligned access is never split between
    // two regions: it is unbacked or runs off the end of one.
    throw this.#unbacked(addr, size, a < 0 ? 0 : this.#backedLength(a, size));
  }

  loadU16(addr: bigint): number {
    const a = toNumber(addr);
    const r = this.#atomic(addr, a, 2);
    return Atomics.load(r.u16, (a - r.startNumber) >>> 1);
  }

  loadU32(addr: bigint): number {
    const a = toNumber(addr);
    const r = this.#atomic(addr, a, 4);
    return Atomics.load(r.u32, (a - r.startNumber) >>> 2);
  }

  loadU64(addr: bigint): bigint {
    const a = toNumber(addr);
    const r = this.#atomic(addr, a, 8);
    return Atomics.load(r.u64, (a - r.startNumber) >>> 3);
  }

  storeU16(addr: bigint, value: number): void {
    checkUint(value, 16);
    const a = toNumber(addr);
    const r = this.#atomic(addr, a, 2);
    const off = a - r.startNumber;
    Atomics.store(r.u16, off >>> 1, value);
    r.dirtyBitmap?.mark(off, 2);
  }

  storeU32(addr: bigint, value: number): void {
    checkUint(value, 32);
    const a = toNumber(addr);
    const r = this.#atomic(addr, a, 4);
    const off = a - r.startNumber;
    Atomics.store(r.u32, off >>> 2, value);
    r.dirtyBitmap?.mark(off, 4);
  }

  storeU64(addr: bigint, value: bigint): void {
    checkU64(value);
    const a = toNumber(addr);
    const r = this.#atomic(addr, a, 8);
    const off = a - r.startNumber;
    Atomics.store(r.u64, off >>> 3, value);
    r.dirtyBitmap?.mark(off, 8);
  }

  // --- objects ------------------------------------------------------------

  readObj<T>(addr: bigint, layout: ObjectLayout<T>): T {
    const size = layout.size;
    const a = toNumber(addr);
    const r = this.#find(a, size);
    if (r !== undefined) return layout.read(r.view, a - r.startNumber);
    const bytes = new Uint8Array(size);
    this.#copy(this.#requireRange(addr, size), bytes, size, false);
    return layout.read(new DataView(bytes.buffer), 0);
  }

  writeObj<T>(addr: bigint, layout: ObjectLayout<T>, value: T): void {
    const size = layout.size;
    const a = toNumber(addr);
    const r = this.#find(a, size);
    if (r !== undefined) {
      const off = a - r.startNumber;
      layout.write(r.view, off, value, OBJECT_WHERE);
      r.dirtyBitmap?.mark(off, size);
      return;
    }
    const start = this.#requireRange(addr, size);
    const bytes = new Uint8Array(size);
    layout.write(new DataView(bytes.buffer), 0, value, OBJECT_WHERE);
    this.#copy(start, bytes, size, true);
  }

  // --- zero-copy ----------------------------------------------------------

  getSlice(addr: bigint, length: number): Uint8Array {
    return this.#slice(addr, length, false);
  }

  getWritableSlice(addr: bigint, length: number): Uint8Array {
    return this.#slice(addr, length, true);
  }

  #slice(addr: bigint, length: number, writable: boolean): Uint8Array {
    checkLength(length);
    if (length === 0) return new Uint8Array(0);
    const a = toNumber(addr);
    const r = this.#find(a, length);
    if (r === undefined) throw this.#notOneRegion(addr, a, length);
    const off = a - r.startNumber;
    if (writable) r.dirtyBitmap?.mark(off, length);
    return r.u8.subarray(off, off + length);
  }

  #notOneRegion(addr: bigint, a: number, length: number): VmMemoryError {
    const backed = a < 0 ? 0 : this.#backedLength(a, length);
    if (backed < length) return this.#unbacked(addr, length, backed);
    return new VmMemoryError(
      'SPANS_REGIONS',
      `${length} bytes at ${hex(addr)} cross a region boundary; no single view covers them`,
      { address: addr, expected: length },
    );
  }

  getSlices(addr: bigint, length: number, writable = false): Uint8Array[] {
    checkLength(length);
    if (length === 0) return [];
    const out: Uint8Array[] = [];
    this.#pieces(this.#requireRange(addr, length), length, (r, off, len) => {
      out.push(r.u8.subarray(off, off + len));
      if (writable) r.dirtyBitmap?.mark(off, len);
    });
    return out;
  }

  markDirty(addr: bigint, length: number): void {
    checkLength(length);
    if (length === 0) return;
    this.#pieces(this.#requireRange(addr, length), length, (r, off, len) => r.dirtyBitmap?.mark(off, len));
  }
}
