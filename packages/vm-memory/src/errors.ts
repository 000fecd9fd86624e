/**
 * The one error class of this package. Argument mistakes are `TypeError` or
 * `RangeError`; failed system calls are vmm-sys-util's `SysError`; everything
 * that a guest can cause (an address outside guest RAM, an access that runs
 * off the end of it, address arithmetic that overflows) is a
 * {@link VmMemoryError} with a string {@link VmMemoryErrorCode}.
 */

/**
 * Why a guest memory operation failed.
 *
 * - `ADDRESS_OVERFLOW`: address arithmetic would leave the 64-bit guest
 *   physical address space (the throwing `GuestAddress.add`, `sub`, ...).
 * - `INVALID_ADDRESS`: the first byte of an access is not backed by any region.
 * - `PARTIAL_BUFFER`: an exact access starts in guest memory but runs into
 *   unbacked space before its end; nothing was transferred.
 * - `MISALIGNED`: an atomic load or store at an address that is not a multiple
 *   of its size.
 * - `SPANS_REGIONS`: a zero-copy view was asked for a range that is backed but
 *   crosses from one region into the next, so no single view can cover it.
 * - `CLOSED`: the memory was closed (its mappings are gone).
 */
export type VmMemoryErrorCode =
  | 'ADDRESS_OVERFLOW'
  | 'INVALID_ADDRESS'
  | 'PARTIAL_BUFFER'
  | 'MISALIGNED'
  | 'SPANS_REGIONS'
  | 'CLOSED';

/** Details a {@link VmMemoryError} carries besides its code. */
export interface VmMemoryErrorDetails {
  /** The guest address the failing operation started at. */
  address?: bigint;
  /** How many bytes the operation wanted. */
  expected?: number;
  /** How many of them were backed (for `PARTIAL_BUFFER`). */
  completed?: number;
  /** The underlying failure. */
  cause?: unknown;
}

/** A guest memory operation failed; `code` says why. */
export class VmMemoryError extends Error {
  override name = 'VmMemoryError';
  /** Which failure this is. */
  readonly code: VmMemoryErrorCode;
  /** The guest address the failing operation started at, if it had one. */
  readonly address: bigint | undefined;
  /** Bytes the operation wanted, when it was an access. */
  readonly expected: number | undefined;
  /** Bytes of it that were backed, for `PARTIAL_BUFFER`. */
  readonly completed: number | undefined;

  constructor(code: VmMemoryErrorCode, message: string, details: VmMemoryErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.address = details.address;
    this.expected = details.expected;
    this.completed = details.completed;
  }
}

/** `0x`-prefixed lowercase hex of an address, for messages. */
export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}
