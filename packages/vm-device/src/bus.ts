/**
 * Buses: which device owns which address range.
 *
 * A bus maps non-overlapping ranges to devices and answers "which device, at
 * which offset" for an address. Lookups are on the vCPU exit path, so they
 * allocate nothing: the port bus is a direct 64 Ki-entry table, the MMIO bus
 * a sorted array searched by bisection behind a one-entry cache.
 */
import {
  assertMmioAddress,
  assertPioAddress,
  type MmioAddress,
  MmioRange,
  overlapError,
  PIO_SPACE_SIZE,
  type PioAddress,
  PioRange,
} from './address.js';
import { VmDeviceError } from './errors.js';

/**
 * One registration on a bus. The same object is returned by every lookup that
 * hits it, so reading it costs no allocation.
 */
export interface BusEntry<R, D> {
  /** The registered range. */
  readonly range: R;
  /** The device that owns it. */
  readonly device: D;
  /** `range.base` as a number (for MMIO, exact: ranges end below 2^53). */
  readonly base: number;
  /** The last address of the range as a number. */
  readonly last: number;
}

/** A port I/O bus: up to 65 536 ports, each owned by at most one device. */
export class PioBus<D> {
  /** slot + 1 of the entry owning each port; 0 = unclaimed. */
  readonly #table = new Int32Array(PIO_SPACE_SIZE);
  readonly #slots: Array<BusEntry<PioRange, D> | undefined> = [];
  readonly #free: number[] = [];

  /**
   * Registers `device` on `range`.
   * @throws VmDeviceError `OVERLAP` if a port of `range` is already owned.
   */
  register(range: PioRange, device: D): void {
    if (!(range instanceof PioRange)) throw new TypeError('range must be a PioRange');
    for (let port = range.base; port <= range.last; port++) {
      const slot = this.#table[port]!;
      if (slot !== 0) throw overlapError(range, this.#slots[slot - 1]!.range);
    }
    const entry: BusEntry<PioRange, D> = { range, device, base: range.base, last: range.last };
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#slots.length;
      this.#slots.push(entry);
    } else {
      this.#slots[slot] = entry;
    }
    this.#table.fill(slot + 1, range.base, range.last + 1);
  }

  /**
   * Removes the registration whose range starts at `base` and returns it.
   * @throws VmDeviceError `NOT_REGISTERED` if no range starts there.
   */
  deregister(base: PioAddress): BusEntry<PioRange, D> {
    assertPioAddress(base, 'base');
    const slot = this.#table[base]! - 1;
    const entry = this.#slots[slot];
    if (entry === undefined || entry.base !== base)
      throw new VmDeviceError('NOT_REGISTERED', `no port range starts at 0x${base.toString(16)}`);
    this.#table.fill(0, entry.base, entry.last + 1);
    this.#slots[slot] = undefined;
    this.#free.push(slot);
    return entry;
  }

  /**
   * The registration owning `port`, or `undefined`. Does not allocate.
   * A `port` that is not an integer in 0..0xffff owns nothing.
   */
  find(port: PioAddress): BusEntry<PioRange, D> | undefined {
    if ((port & 0xffff) !== port) return undefined;
    const slot = this.#table[port]!;
    return slot === 0 ? undefined : this.#slots[slot - 1];
  }

  /** The registrations in ascending port order. */
  *entries(): IterableIterator<BusEntry<PioRange, D>> {
    const live = this.#slots.filter((e): e is BusEntry<PioRange, D> => e !== undefined);
    live.sort((a, b) => a.base - b.base);
    yield* live;
  }
}

/** An MMIO bus: non-overlapping ranges of guest physical addresses below 2^53. */
export class MmioBus<D> {
  /** Sorted by base. */
  #sorted: Array<BusEntry<MmioRange, D>> = [];
  #lastHit: BusEntry<MmioRange, D> | undefined;

  /**
   * Registers `device` on `range`.
   * @throws VmDeviceError `OVERLAP` if `range` shares a byte with a registered range.
   */
  register(range: MmioRange, device: D): void {
    if (!(range instanceof MmioRange)) throw new TypeError('range must be an MmioRange');
    const entry: BusEntry<MmioRange, D> = {
      range,
      device,
      base: Number(range.base),
      last: Number(range.last),
    };
    const at = this.#upperBound(entry.base);
    const before = this.#sorted[at - 1];
    if (before !== undefined && before.last >= entry.base) throw overlapError(range, before.range);
    const after = this.#sorted[at];
    if (after !== undefined && after.base <= entry.last) throw overlapError(range, after.range);
    this.#sorted.splice(at, 0, entry);
  }

  /**
   * Removes the registration whose range starts at `base` and returns it.
   * @throws VmDeviceError `NOT_REGISTERED` if no range starts there.
   */
  deregister(base: MmioAddress): BusEntry<MmioRange, D> {
    assertMmioAddress(base, 'base');
    const at = this.#upperBound(Number(base)) - 1;
    const entry = this.#sorted[at];
    if (entry === undefined || entry.range.base !== base)
      throw new VmDeviceError('NOT_REGISTERED', `no MMIO range starts at 0x${base.toString(16)}`);
    this.#sorted.splice(at, 1);
    if (this.#lastHit === entry) this.#lastHit = undefined;
    return entry;
  }

  /**
   * The registration owning `address`, or `undefined`. Does not allocate for a
   * number; a bigint is converted once. Addresses at or above 2^53 own nothing.
   */
  find(address: MmioAddress | number): BusEntry<MmioRange, D> | undefined {
    const a = typeof address === 'bigint' ? (address < MMIO_LIMIT ? Number(address) : -1) : address;
    if (!(a >= 0)) return undefined;
    const hit = this.#lastHit;
    if (hit !== undefined && a >= hit.base && a <= hit.last) return hit;
    const entry = this.#sorted[this.#upperBound(a) - 1];
    if (entry === undefined || a > entry.last) return undefined;
    this.#lastHit = entry;
    return entry;
  }

  /** The registrations in ascending address order. */
  *entries(): IterableIterator<BusEntry<MmioRange, D>> {
    yield* this.#sorted.slice();
  }

  /** Index of the first entry whose base is greater than `a`. */
  #upperBound(a: number): number {
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]!.base <= a) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const MMIO_LIMIT = 2n ** 53n;
