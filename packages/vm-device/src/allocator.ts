/**
 * Allocators for address space (MMIO windows, port ranges) and for numbered
 * resources (legacy IRQs, GSIs), each with the three placement policies of
 * rust-vmm's vm-allocator: first fit, last fit, and an exact placement.
 */
import { MmioRange } from './address.js';
import { VmDeviceError } from './errors.js';

/**
 * Where an allocation goes: the lowest place that fits, the highest one, or
 * exactly at an address or id.
 */
export type AllocPolicy = 'first-fit' | 'last-fit' | { readonly exact: bigint | number };

function describePolicy(policy: AllocPolicy): string {
  return typeof policy === 'string' ? policy : `exact 0x${policy.exact.toString(16)}`;
}

function assertPolicy(policy: unknown): asserts policy is AllocPolicy {
  if (policy === 'first-fit' || policy === 'last-fit') return;
  const exact = (policy as { exact?: unknown } | null)?.exact;
  if (typeof exact !== 'bigint' && typeof exact !== 'number')
    throw new TypeError(`policy must be 'first-fit', 'last-fit' or { exact }, got ${String(policy)}`);
}

/**
 * Hands out aligned, non-overlapping ranges of an address window and takes
 * them back. Ranges are {@link MmioRange}s (bigint, below 2^53); a port
 * window is allocated the same way and converted by the caller.
 */
export class AddressAllocator {
  /** The whole window this allocator manages. */
  readonly window: MmioRange;
  /** Free blocks as [first, last] pairs, sorted and never adjacent. */
  #free: Array<[bigint, bigint]>;
  /** Live allocations by base. */
  readonly #allocated = new Map<bigint, MmioRange>();

  /** Manages `size` bytes from `base`; throws `RangeError` for an empty window or one reaching 2^53. */
  constructor(base: bigint, size: bigint) {
    this.window = new MmioRange(base, size);
    this.#free = [[this.window.base, this.window.last]];
  }

  /**
   * Allocates `size` bytes aligned to `align` (a power of two) by `policy`.
   * An exact placement must be aligned.
   * @throws VmDeviceError `OUT_OF_SPACE` when no free block fits, `OVERLAP` when an exact placement is taken
   */
  allocate(size: bigint, align: bigint = 1n, policy: AllocPolicy = 'first-fit'): MmioRange {
    if (typeof size !== 'bigint' || typeof align !== 'bigint')
      throw new TypeError('size and align must be bigints');
    if (size < 1n) throw new RangeError(`size must be positive, got ${size}`);
    if (align < 1n || (align & (align - 1n)) !== 0n)
      throw new RangeError(`align must be a power of two, got ${align}`);
    assertPolicy(policy);
    let base: bigint | undefined;
    if (typeof policy === 'object') {
      const at = BigInt(policy.exact);
      if (at % align !== 0n)
        throw new RangeError(`exact address 0x${at.toString(16)} is not aligned to ${align}`);
      if (at < this.window.base || at + size - 1n > this.window.last)
        throw new VmDeviceError(
          'OUT_OF_SPACE',
          `0x${at.toString(16)}+0x${size.toString(16)} is outside ${this.window}`,
        );
      if (!this.#free.some(([first, last]) => at >= first && at + size - 1n <= last))
        throw new VmDeviceError(
          'OVERLAP',
          `0x${at.toString(16)}+0x${size.toString(16)} is (partly) allocated`,
        );
      base = at;
    } else if (policy === 'first-fit') {
      for (const [first, last] of this.#free) {
        const start = alignUp(first, align);
        if (start + size - 1n <= last) {
          base = start;
          break;
        }
      }
    } else {
      for (let i = this.#free.length - 1; i >= 0; i--) {
        const [first, last] = this.#free[i]!;
        const start = alignDown(last - size + 1n, align);
        if (last - first + 1n >= size && start >= first) {
          base = start;
          break;
        }
      }
    }
    if (base === undefined)
      throw new VmDeviceError(
        'OUT_OF_SPACE',
        `no free 0x${size.toString(16)}-byte block aligned to ${align} (${describePolicy(policy)}) in ${this.window}`,
      );
    const range = new MmioRange(base, size);
    this.#take(range);
    this.#allocated.set(base, range);
    return range;
  }

  /**
   * Returns an allocation. `range` must be one {@link allocate} returned (or
   * equal to one) and not yet freed.
   * @throws VmDeviceError `NOT_REGISTERED`
   */
  free(range: MmioRange): void {
    const live = this.#allocated.get(range?.base);
    if (live === undefined || live.size !== range.size)
      throw new VmDeviceError('NOT_REGISTERED', `${range} is not an allocation of this allocator`);
    this.#allocated.delete(live.base);
    this.#release(live.base, live.last);
  }

  /** The free blocks, lowest first. */
  freeRanges(): MmioRange[] {
    return this.#free.map(([first, last]) => new MmioRange(first, last - first + 1n));
  }

  #take(range: MmioRange): void {
    const i = this.#free.findIndex(([first, last]) => range.base >= first && range.last <= last);
    const [first, last] = this.#free[i]!;
    const parts: Array<[bigint, bigint]> = [];
    if (first < range.base) parts.push([first, range.base - 1n]);
    if (range.last < last) parts.push([range.last + 1n, last]);
    this.#free.splice(i, 1, ...parts);
  }

  #release(first: bigint, last: bigint): void {
    let i = this.#free.findIndex(([f]) => f > last);
    if (i < 0) i = this.#free.length;
    this.#free.splice(i, 0, [first, last]);
    const next = this.#free[i + 1];
    if (next !== undefined && next[0] === last + 1n) {
      this.#free[i]![1] = next[1];
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (prev !== undefined && prev[1] + 1n === first) {
      prev[1] = this.#free[i]![1];
      this.#free.splice(i, 1);
    }
  }
}

function alignUp(value: bigint, align: bigint): bigint {
  return ((value + align - 1n) / align) * align;
}

function alignDown(value: bigint, align: bigint): bigint {
  return value < 0n ? -1n : (value / align) * align;
}

/**
 * Hands out numbers from `first..last` (inclusive): IRQs, GSIs, slots.
 */
export class IdAllocator {
  /** The lowest id handed out. */
  readonly first: number;
  /** The highest id handed out. */
  readonly last: number;
  readonly #used = new Set<number>();

  /** Throws `TypeError`/`RangeError` unless `0 <= first <= last <= 2^32-1`. */
  constructor(first: number, last: number) {
    for (const [what, v] of [
      ['first', first],
      ['last', last],
    ] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer`);
      if (v < 0 || v > 0xffffffff) throw new RangeError(`${what} must fit in 32 bits unsigned, got ${v}`);
    }
    if (first > last) throw new RangeError(`first (${first}) must not exceed last (${last})`);
    this.first = first;
    this.last = last;
  }

  /**
   * Allocates an id by `policy`.
   * @throws VmDeviceError `OUT_OF_SPACE` when none is free (or an exact id is outside the range), `OVERLAP` when an exact id is taken
   */
  allocate(policy: AllocPolicy = 'first-fit'): number {
    assertPolicy(policy);
    if (typeof policy === 'object') {
      const id = Number(policy.exact);
      if (!Number.isInteger(id) || id < this.first || id > this.last)
        throw new VmDeviceError('OUT_OF_SPACE', `id ${policy.exact} is outside ${this.first}..${this.last}`);
      if (this.#used.has(id)) throw new VmDeviceError('OVERLAP', `id ${id} is already allocated`);
      this.#used.add(id);
      return id;
    }
    if (this.#used.size < this.last - this.first + 1) {
      const step = policy === 'first-fit' ? 1 : -1;
      for (let id = policy === 'first-fit' ? this.first : this.last; ; id += step) {
        if (!this.#used.has(id)) {
          this.#used.add(id);
          return id;
        }
      }
    }
    throw new VmDeviceError('OUT_OF_SPACE', `all ids in ${this.first}..${this.last} are allocated`);
  }

  /**
   * Returns an id.
   * @throws VmDeviceError `NOT_REGISTERED` if it is not allocated
   */
  free(id: number): void {
    if (!this.#used.delete(id)) throw new VmDeviceError('NOT_REGISTERED', `id ${id} is not allocated`);
  }

  /** Whether `id` is currently allocated. */
  isAllocated(id: number): boolean {
    return this.#used.has(id);
  }
}
