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

/** The symbolic name of a positive errno value, e.g. 9 → `EBADF`. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

/** Throws a SysError when a native result is a negative errno; returns it otherwise. */
export function check(result: number, syscall: string, detail?: string): number {
  if (result < 0) throw new SysError(-result, syscall, detail);
  return result;
}
