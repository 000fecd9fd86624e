import { getSystemErrorName } from 'node:util';

/** Codes for the failures of this package that are not system errors. */
export type SysErrorCode = string;

/**
 * A failed system call, shaped like Node's own system errors: `errno` is the
 * positive error number, `code` its name (`EBADF`), `syscall` what was called
 * (for an ioctl, the request's name, e.g. `ioctl(KVM_CREATE_VCPU)`).
 */
export class SysError extends Error {
  override name = 'SysError';
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;

  constructor(errno: number, syscall: string, detail?: string, options?: ErrorOptions) {
    const code = errnoName(errno);
    super(`${syscall} failed: ${code} (errno ${errno})${detail ? `: ${detail}` : ''}`, options);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

/** Linux errno names that libuv (and so Node) does not know. */
const LINUX_ONLY_ERRNO_NAMES: Readonly<Record<number, string>> = {
  15: 'ENOTBLK',
  77: 'EBADFD',
  85: 'ERESTART',
  123: 'ENOMEDIUM',
  124: 'EMEDIUMTYPE',
};

/**
 * The symbolic name of a positive errno value, e.g. 9 → `EBADF`, 77 →
 * `EBADFD`; `E<n>` for a number Linux has no name for.
 */
export function errnoName(errno: number): string {
  let name: string;
  try {
    name = getSystemErrorName(-errno);
  } catch {
    name = '';
  }
  // Node answers "Unknown system error -77" for names libuv lacks.
  if (/^E[A-Z0-9]+$/.test(name)) return name;
  return LINUX_ONLY_ERRNO_NAMES[errno] ?? `E${errno}`;
}

/** Throws a SysError when a native result is a negative errno; returns it otherwise. */
export function check(result: number, syscall: string, detail?: string): number {
  if (result < 0) throw new SysError(-result, syscall, detail);
  return result;
}
