/**
 * The one error class of this package. Argument mistakes are `TypeError` or
 * `RangeError`; everything a driver (the guest) can get wrong is a
 * {@link VirtioQueueError} with a string {@link VirtioQueueErrorCode}, so a
 * device can count it, log it once and reset or go on as the spec says.
 */
import { VmMemoryError } from '@tsvmm/vm-memory';

/**
 * Why a queue operation failed.
 *
 * Configuration (from {@link VirtQueue.validate}):
 * - `QUEUE_NOT_READY`: the driver has not set the queue ready.
 * - `INVALID_SIZE`: the queue size is 0, above the maximum, or (split) not a power of two.
 * - `MISALIGNED_AREA`: a ring area is not aligned as §2.7/§2.8 require.
 * - `AREA_OUT_OF_MEMORY`: a ring area is not entirely in guest memory.
 *
 * Chains (from popping a chain; the error names the chain's `headIndex`):
 * - `INVALID_AVAIL_IDX`: the available index ran ahead of the device by more than the queue size.
 * - `INVALID_DESCRIPTOR_INDEX`: a head or `next` index is not below the queue (or table) size.
 * - `CHAIN_TOO_LONG`: a chain has more descriptors than its table holds (a loop).
 * - `NESTED_INDIRECT`: an indirect table contains an indirect descriptor.
 * - `INDIRECT_WITH_NEXT`: an indirect descriptor also has `NEXT` set (split), or is chained (packed).
 * - `INVALID_INDIRECT_TABLE`: an indirect table's length is 0, not a multiple of 16, or above 2^20 bytes.
 * - `READABLE_AFTER_WRITABLE`: a device-readable descriptor follows a device-writable one.
 * - `DESCRIPTOR_OUT_OF_MEMORY`: a buffer or indirect table is not entirely in guest memory.
 * - `DESCRIPTOR_NOT_AVAILABLE`: (packed) a chain continues into a slot the driver has not made available.
 *
 * Device side:
 * - `INVALID_USED_ID`: `addUsed` with an id no popped chain had.
 * - `SHORT_BUFFER`: a `Reader`/`Writer` access needs more bytes than the chain has left.
 * - `GUEST_MEMORY`: a guest memory access failed (the `cause` is the vm-memory error).
 */
export type VirtioQueueErrorCode =
  | 'QUEUE_NOT_READY'
  | 'INVALID_SIZE'
  | 'MISALIGNED_AREA'
  | 'AREA_OUT_OF_MEMORY'
  | 'INVALID_AVAIL_IDX'
  | 'INVALID_DESCRIPTOR_INDEX'
  | 'CHAIN_TOO_LONG'
  | 'NESTED_INDIRECT'
  | 'INDIRECT_WITH_NEXT'
  | 'INVALID_INDIRECT_TABLE'
  | 'READABLE_AFTER_WRITABLE'
  | 'DESCRIPTOR_OUT_OF_MEMORY'
  | 'DESCRIPTOR_NOT_AVAILABLE'
  | 'INVALID_USED_ID'
  | 'SHORT_BUFFER'
  | 'GUEST_MEMORY';

/** A virtqueue operation failed; `code` says why. */
export class VirtioQueueError extends Error {
  override name = 'VirtioQueueError';
  /** Which failure this is. */
  readonly code: VirtioQueueErrorCode;
  /**
   * The head index (split) or buffer id (packed) of the chain that was
   * malformed, when known: a device may return it to the driver as used.
   */
  readonly headIndex: number | undefined;

  constructor(
    code: VirtioQueueErrorCode,
    message: string,
    options: { headIndex?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.headIndex = options.headIndex;
  }
}

/**
 * The error to throw for `err`, caught while `what` was being done: a guest
 * memory failure becomes `GUEST_MEMORY` (with it as the cause); anything
 * else, including this package's own errors, is returned unchanged.
 */
export function queueErrorFrom(err: unknown, what: string, headIndex?: number): unknown {
  if (!(err instanceof VmMemoryError)) return err;
  return new VirtioQueueError(
    'GUEST_MEMORY',
    `${what}: ${err.message}`,
    headIndex === undefined ? { cause: err } : { cause: err, headIndex },
  );
}
