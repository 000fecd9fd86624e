/**
 * The one error class of `@tsvmm/vm-device`.
 *
 * Argument errors (a negative size, a non-integer port) are `TypeError`s and
 * `RangeError`s; a `VmDeviceError` is a failure of a valid request, named by
 * its `code`.
 */

/** Every failure a {@link VmDeviceError} can name. */
export type VmDeviceErrorCode =
  /** No device is registered at the accessed address. */
  | 'NO_DEVICE'
  /** A range being registered or allocated overlaps one already taken. */
  | 'OVERLAP'
  /** An access has a size the bus does not support, or runs past its device's range. */
  | 'BAD_ACCESS_LENGTH'
  /** Nothing is registered or allocated at the given base (deregister, free). */
  | 'NOT_REGISTERED'
  /** An allocator has no free space or id satisfying the request. */
  | 'OUT_OF_SPACE'
  /** A shared descriptor passed to `attach()` is not one `create()` produced. */
  | 'BAD_SHARED_STATE';

/**
 * A failure of `@tsvmm/vm-device`: `code` names it, `cause` (ES2022) carries
 * the underlying error when there is one.
 */
export class VmDeviceError extends Error {
  override name = 'VmDeviceError';
  /** What failed; stable across versions. */
  readonly code: VmDeviceErrorCode;

  constructor(code: VmDeviceErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
