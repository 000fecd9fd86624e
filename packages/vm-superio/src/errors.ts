/**
 * The one error class of `@tsvmm/vm-superio`.
 *
 * Nothing a guest does makes a device throw: bad register accesses are
 * counted in the device's metrics and logged once. Errors are for the VMM's
 * own mistakes: bad arguments (`TypeError`/`RangeError`) and the failures
 * named here.
 */

/** Every failure a {@link VmSuperioError} can name. */
export type VmSuperioErrorCode =
  /** A shared descriptor passed to `attach()` is not one the same device class produced. */
  'BAD_SHARED_STATE';

/** A failure of `@tsvmm/vm-superio`, named by `code`, with an ES2022 `cause`. */
export class VmSuperioError extends Error {
  override name = 'VmSuperioError';
  /** What failed; stable across versions. */
  readonly code: VmSuperioErrorCode;

  constructor(code: VmSuperioErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
