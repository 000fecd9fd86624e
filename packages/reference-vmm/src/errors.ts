/** Every way the reference VMM can refuse or fail, as a string code. */
export type VmmErrorCode =
  | 'USAGE'
  | 'CONFIG_FILE'
  | 'CONFIG_JSON'
  | 'CONFIG_UNKNOWN_KEY'
  | 'CONFIG_TYPE'
  | 'CONFIG_VALUE'
  | 'CONFIG_UNSUPPORTED'
  | 'KERNEL'
  | 'INITRD'
  | 'DISK'
  | 'NET'
  | 'KVM'
  | 'MEMORY'
  | 'BOOT'
  | 'VCPU'
  | 'DEVICE'
  | 'STATE';

/**
 * The reference VMM's one error class. `code` names the failure; `cause`
 * carries the underlying error (a SysError, a loader error, ...).
 */
export class VmmError extends Error {
  override name = 'VmmError';
  readonly code: VmmErrorCode;

  constructor(code: VmmErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
