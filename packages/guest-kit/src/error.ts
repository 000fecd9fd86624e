/**
 * What went wrong while building or finding the guest kit:
 * - `PACKAGE_UNAVAILABLE`: apt knows no installable version of a Debian package the kit needs;
 * - `FETCH_FAILED`: `apt-get update`, `install` or `download` failed (network, mirror, missing version);
 * - `HOST_PACKAGES_MISSING`: build tools are not installed and this process may not install them;
 * - `DISK_FULL`: too little free space before a step, or a step ran out of it;
 * - `BUILD_FAILED`: a build step exited with an error (the message ends with its log's tail);
 * - `CONFIG_MISMATCH`: the kernel's final .config lacks options the config fragment asks for.
 */
export type GuestKitErrorCode =
  | 'PACKAGE_UNAVAILABLE'
  | 'FETCH_FAILED'
  | 'HOST_PACKAGES_MISSING'
  | 'DISK_FULL'
  | 'BUILD_FAILED'
  | 'CONFIG_MISMATCH';

/** The one error class of `@tsvmm/guest-kit`; `code` names the failure, `cause` holds the underlying error. */
export class GuestKitError extends Error {
  override name = 'GuestKitError';
  readonly code: GuestKitErrorCode;

  constructor(code: GuestKitErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
