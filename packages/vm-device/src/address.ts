/**
 * Addresses and ranges of the two x86 I/O spaces.
 *
 * Port I/O addresses are 16-bit numbers. MMIO addresses are guest physical
 * addresses: `bigint` at the API, like every guest address in tsvmm. Because
 * x86-64 physical addresses have at most 52 bits, MMIO ranges must end below
 * 2^53 so that the buses can search them as plain numbers without allocating.
 */
import { VmDeviceError } from './errors.js';

/** A port I/O address, 0..0xffff. */
export type PioAddress = number;

/** A guest physical address used for memory-mapped I/O. */
export type MmioAddress = bigint;

/** The size of the port I/O space. */
export const PIO_SPACE_SIZE = 0x1_0000;

/** One past the last MMIO address a bus accepts (2^53; x86-64 MAXPHYADDR is at most 52). */
export const MMIO_SPACE_END = 2n ** 53n;

/** Throws unless `port` is an integer port address. */
export function assertPioAddress(port: unknown, what = 'port'): asserts port is PioAddress {
  if (typeof port !== 'number' || !Number.isInteger(port))
    throw new TypeError(`${what} must be an integer, got ${String(port)}`);
  if (port < 0 || port > 0xffff) throw new RangeError(`${what} must be in 0..0xffff, got ${port}`);
}

/** Throws unless `address` is a bigint MMIO address below {@link MMIO_SPACE_END}. */
export function assertMmioAddress(address: unknown, what = 'address'): asserts address is MmioAddress {
  if (typeof address !== 'bigint') throw new TypeError(`${what} must be a bigint, got ${typeof address}`);
  if (address < 0n || address >= MMIO_SPACE_END)
    throw new RangeError(`${what} must be in 0..2^53-1, got 0x${address.toString(16)}`);
}

/** A contiguous range of ports: `size` ports from `base`. Immutable. */
export class PioRange {
  /** First port of the range. */
  readonly base: PioAddress;
  /** Number of ports, at least 1. */
  readonly size: number;

  /** Throws `TypeError`/`RangeError` for a range that is empty or runs past port 0xffff. */
  constructor(base: PioAddress, size: number) {
    assertPioAddress(base, 'base');
    if (typeof size !== 'number' || !Number.isInteger(size))
      throw new TypeError(`size must be an integer, got ${String(size)}`);
    if (size < 1 || base + size > PIO_SPACE_SIZE)
      throw new RangeError(`port range 0x${base.toString(16)}+${size} is empty or runs past 0xffff`);
    this.base = base;
    this.size = size;
  }

  /** The last port of the range. */
  get last(): PioAddress {
    return this.base + this.size - 1;
  }

  /** Whether `port` lies in the range. */
  contains(port: PioAddress): boolean {
    return port >= this.base && port <= this.last;
  }

  /** Whether the two ranges share at least one port. */
  overlaps(other: PioRange): boolean {
    return this.base <= other.last && other.base <= this.last;
  }

  /** `0x3f8..0x3ff`, for messages. */
  toString(): string {
    return `0x${this.base.toString(16)}..0x${this.last.toString(16)}`;
  }
}

/** A contiguous range of MMIO addresses: `size` bytes from `base`. Immutable. */
export class MmioRange {
  /** First address of the range. */
  readonly base: MmioAddress;
  /** Length in bytes, at least 1. */
  readonly size: bigint;

  /** Throws `TypeError`/`RangeError` for a range that is empty or ends at or above 2^53. */
  constructor(base: MmioAddress, size: bigint) {
    assertMmioAddress(base, 'base');
    if (typeof size !== 'bigint') throw new TypeError(`size must be a bigint, got ${typeof size}`);
    if (size < 1n || base + size > MMIO_SPACE_END)
      throw new RangeError(
        `MMIO range 0x${base.toString(16)}+0x${size.toString(16)} is empty or ends past 2^53`,
      );
    this.base = base;
    this.size = size;
  }

  /** The last address of the range. */
  get last(): MmioAddress {
    return this.base + this.size - 1n;
  }

  /** Whether `address` lies in the range. */
  contains(address: MmioAddress): boolean {
    return address >= this.base && address <= this.last;
  }

  /** Whether the two ranges share at least one byte. */
  overlaps(other: MmioRange): boolean {
    return this.base <= other.last && other.base <= this.last;
  }

  /** `0xd0000000..0xd0000fff`, for messages. */
  toString(): string {
    return `0x${this.base.toString(16)}..0x${this.last.toString(16)}`;
  }
}

/** Throws a {@link VmDeviceError} `OVERLAP` naming both ranges. */
export function overlapError(range: PioRange | MmioRange, taken: PioRange | MmioRange): VmDeviceError {
  return new VmDeviceError('OVERLAP', `range ${range} overlaps the registered range ${taken}`);
}
