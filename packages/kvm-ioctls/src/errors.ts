import { errnoName, SysError } from '@tsvmm/vmm-sys-util';

/**
 * Why a {@link KvmError} was thrown: the errno name of a failed system call
 * (`EEXIST`, `EINVAL`, `EBADF`...), or one of the package's own codes:
 * - `KVM_RUN_MMAP_SIZE`: the vCPU mmap size is too small to hold `kvm_run`
 * - `VCPU_BUSY`: the vCPU is being run by a {@link VcpuThread}; stop it first
 * - `VCPU_THREAD_FAILED`: a vCPU thread ended with an error (see `cause`)
 * - `VCPU_HANDLER_INVALID`: a vCPU thread's handler module does not export a usable `setup`
 */
export type KvmErrorCode =
  | 'KVM_RUN_MMAP_SIZE'
  | 'VCPU_BUSY'
  | 'VCPU_THREAD_FAILED'
  | 'VCPU_HANDLER_INVALID'
  | (string & {});

/** Details of a {@link KvmError}. */
export interface KvmErrorOptions extends ErrorOptions {
  /** The positive errno of a failed system call. */
  errno?: number;
  /** The system call that failed (`ioctl`, `open`, `mmap`). */
  syscall?: string;
  /** For a failed ioctl, its C name (`KVM_CREATE_VCPU`). */
  ioctl?: string;
}

/**
 * The one error class of this package. A failed system call carries `errno`,
 * `code` (its errno name, like Node's system errors), `syscall`, and for an
 * ioctl the request's C name in `ioctl`. Argument errors are never a
 * KvmError: they are `TypeError`/`RangeError`, thrown before any native call.
 */
export class KvmError extends Error {
  override name = 'KvmError';
  readonly code: KvmErrorCode;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly ioctl: string | undefined;

  constructor(code: KvmErrorCode, message: string, options: KvmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = options.errno;
    this.syscall = options.syscall;
    this.ioctl = options.ioctl;
  }

  /** The error of a failed ioctl (`errno` positive). */
  static ioctl(name: string, errno: number, cause?: unknown): KvmError {
    const code = errnoName(errno);
    return new KvmError(code, `${name} failed: ${code} (errno ${errno})`, {
      errno,
      syscall: 'ioctl',
      ioctl: name,
      cause,
    });
  }

  /** Wraps a vmm-sys-util SysError (from open, mmap...) so that callers see one error class. */
  static fromSysError(err: SysError, ioctl?: string): KvmError {
    const paren = /^ioctl\((.*)\)$/.exec(err.syscall);
    const syscall = paren ? 'ioctl' : err.syscall;
    const name = ioctl ?? paren?.[1];
    return new KvmError(err.code, name ? `${name} failed: ${err.message}` : err.message, {
      errno: err.errno,
      syscall,
      ...(name === undefined ? {} : { ioctl: name }),
      cause: err,
    });
  }
}

/** Runs `fn`, turning a SysError it throws into a KvmError. */
export function wrapSys<T>(fn: () => T, ioctl?: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SysError) throw KvmError.fromSysError(e, ioctl);
    throw e;
  }
}
