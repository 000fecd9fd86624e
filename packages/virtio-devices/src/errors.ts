/**
 * The one error class of this package. Argument mistakes are `TypeError` or
 * `RangeError`; guest mistakes are never thrown past a device (they are
 * counted); a {@link VirtioDevicesError} is a host-side failure the VMM must
 * hear about.
 */

/**
 * Why something failed.
 *
 * - `BACKEND_OPEN`: a device backend (a disk image, a TAP device) cannot be opened or set up.
 * - `BACKEND_IO`: a backend operation failed on the host (the `cause` is the system error).
 * - `BAD_SHARED_STATE`: a transport's shared form handed to another thread is not one.
 * - `DEVICE_FACTORY`: the I/O thread could not build a device from its spec (module, export, options).
 * - `DEVICE_MISMATCH`: the device a factory built does not match the spec's `info`.
 * - `IO_THREAD_FAILED`: the I/O thread ended with an error (the `cause`), or without saying why.
 * - `IO_THREAD_STATE`: the I/O thread was started twice, or used after it stopped.
 */
export type VirtioDevicesErrorCode =
  | 'BACKEND_OPEN'
  | 'BACKEND_IO'
  | 'BAD_SHARED_STATE'
  | 'DEVICE_FACTORY'
  | 'DEVICE_MISMATCH'
  | 'IO_THREAD_FAILED'
  | 'IO_THREAD_STATE';

/** A virtio device, transport or I/O thread failure; `code` says which. */
export class VirtioDevicesError extends Error {
  override name = 'VirtioDevicesError';
  /** Which failure this is. */
  readonly code: VirtioDevicesErrorCode;

  constructor(code: VirtioDevicesErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
