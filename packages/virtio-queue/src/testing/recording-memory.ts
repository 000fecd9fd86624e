/**
 * A `GuestMemory` that watches another one: it records every access before
 * passing it on, notes each one that reaches outside guest memory, and
 * stops code that accesses memory without end. For fuzzing code that faces
 * the guest (this package's queues, and devices): after a run, `violations`
 * must be empty, `writes` shows where the code wrote, and an exhausted
 * budget proves a loop.
 */
import type { GuestMemory, GuestMemoryRegion, MemoryRegionAddress, ObjectLayout } from '@tsvmm/vm-memory';

/** One access as the recording memory saw it. */
export interface RecordedAccess {
  readonly addr: bigint;
  readonly len: number;
  readonly write: boolean;
}

/** Thrown when the access budget runs out: the code under test did not terminate in time. */
export class AccessBudgetExceeded extends Error {
  override name = 'AccessBudgetExceeded';
}

/** Options of {@link RecordingMemory}. */
export interface RecordingMemoryOptions {
  /** Accesses allowed before {@link AccessBudgetExceeded} is thrown; default unlimited. */
  budget?: number;
  /** Keep every write in `writes` (default true); reads are only counted. */
  recordWrites?: boolean;
}

/** See the module comment. */
export class RecordingMemory implements GuestMemory {
  readonly inner: GuestMemory;
  /** Accesses that were not entirely inside guest memory. */
  readonly violations: RecordedAccess[] = [];
  /** Writes (including writable slices handed out), in order. */
  readonly writes: RecordedAccess[] = [];
  /** How many accesses were made. */
  accesses = 0;
  readonly #budget: number;
  readonly #recordWrites: boolean;

  constructor(inner: GuestMemory, options: RecordingMemoryOptions = {}) {
    this.inner = inner;
    this.#budget = options.budget ?? Number.POSITIVE_INFINITY;
    this.#recordWrites = options.recordWrites ?? true;
  }

  get regions(): readonly GuestMemoryRegion[] {
    return this.inner.regions;
  }
  get totalSize(): number {
    return this.inner.totalSize;
  }

  /** Records an access of `len` bytes at `addr`. */
  #see(addr: bigint, len: number, write: boolean): void {
    if (++this.accesses > this.#budget) {
      throw new AccessBudgetExceeded(`more than ${this.#budget} guest memory accesses`);
    }
    if (len > 0 && !this.inner.checkRange(addr, len)) this.violations.push({ addr, len, write });
    if (write && this.#recordWrites) this.writes.push({ addr, len, write });
  }

  findRegion(addr: bigint): GuestMemoryRegion | undefined {
    return this.inner.findRegion(addr);
  }
  toRegionAddress(addr: bigint): { region: GuestMemoryRegion; offset: MemoryRegionAddress } | undefined {
    return this.inner.toRegionAddress(addr);
  }
  checkAddress(addr: bigint): boolean {
    return this.inner.checkAddress(addr);
  }
  checkRange(addr: bigint, length: number): boolean {
    return this.inner.checkRange(addr, length);
  }

  read(addr: bigint, buf: Uint8Array): number {
    this.#see(addr, 1, false);
    return this.inner.read(addr, buf);
  }
  readSlice(addr: bigint, buf: Uint8Array): void {
    this.#see(addr, buf.length, false);
    this.inner.readSlice(addr, buf);
  }
  write(addr: bigint, buf: Uint8Array): number {
    this.#see(addr, 1, true);
    return this.inner.write(addr, buf);
  }
  writeSlice(addr: bigint, buf: Uint8Array): void {
    this.#see(addr, buf.length, true);
    this.inner.writeSlice(addr, buf);
  }
  fill(addr: bigint, length: number, value?: number): void {
    this.#see(addr, length, true);
    this.inner.fill(addr, length, value);
  }

  readU8(addr: bigint): number {
    this.#see(addr, 1, false);
    return this.inner.readU8(addr);
  }
  readU16(addr: bigint): number {
    this.#see(addr, 2, false);
    return this.inner.readU16(addr);
  }
  readU32(addr: bigint): number {
    this.#see(addr, 4, false);
    return this.inner.readU32(addr);
  }
  readU64(addr: bigint): bigint {
    this.#see(addr, 8, false);
    return this.inner.readU64(addr);
  }
  writeU8(addr: bigint, value: number): void {
    this.#see(addr, 1, true);
    this.inner.writeU8(addr, value);
  }
  writeU16(addr: bigint, value: number): void {
    this.#see(addr, 2, true);
    this.inner.writeU16(addr, value);
  }
  writeU32(addr: bigint, value: number): void {
    this.#see(addr, 4, true);
    this.inner.writeU32(addr, value);
  }
  writeU64(addr: bigint, value: bigint): void {
    this.#see(addr, 8, true);
    this.inner.writeU64(addr, value);
  }
  loadU16(addr: bigint): number {
    this.#see(addr, 2, false);
    return this.inner.loadU16(addr);
  }
  loadU32(addr: bigint): number {
    this.#see(addr, 4, false);
    return this.inner.loadU32(addr);
  }
  loadU64(addr: bigint): bigint {
    this.#see(addr, 8, false);
    return this.inner.loadU64(addr);
  }
  storeU16(addr: bigint, value: number): void {
    this.#see(addr, 2, true);
    this.inner.storeU16(addr, value);
  }
  storeU32(addr: bigint, value: number): void {
    this.#see(addr, 4, true);
    this.inner.storeU32(addr, value);
  }
  storeU64(addr: bigint, value: bigint): void {
    this.#see(addr, 8, true);
    this.inner.storeU64(addr, value);
  }
  readObj<T>(addr: bigint, layout: ObjectLayout<T>): T {
    this.#see(addr, layout.size, false);
    return this.inner.readObj(addr, layout);
  }
  writeObj<T>(addr: bigint, layout: ObjectLayout<T>, value: T): void {
    this.#see(addr, layout.size, true);
    this.inner.writeObj(addr, layout, value);
  }
  getSlice(addr: bigint, length: number): Uint8Array {
    this.#see(addr, length, false);
    return this.inner.getSlice(addr, length);
  }
  getWritableSlice(addr: bigint, length: number): Uint8Array {
    this.#see(addr, length, true);
    return this.inner.getWritableSlice(addr, length);
  }
  getSlices(addr: bigint, length: number, writable?: boolean): Uint8Array[] {
    this.#see(addr, length, writable === true);
    return this.inner.getSlices(addr, length, writable);
  }
  markDirty(addr: bigint, length: number): void {
    this.#see(addr, length, false);
    this.inner.markDirty(addr, length);
  }
}
