import { constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { check, SysError } from './errors.js';
import { native } from './native.js';
import { assertFd } from './validate.js';

export const O_RDONLY = constants.O_RDONLY;
export const O_WRONLY = constants.O_WRONLY;
export const O_RDWR = constants.O_RDWR;
export const O_NONBLOCK = constants.O_NONBLOCK;

/** open(2) with O_CLOEXEC always added. */
export function open(path: string, flags: number): number {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (path.includes('\0')) throw new TypeError('path must not contain NUL');
  if (!Number.isInteger(flags)) throw new TypeError('flags must be an integer');
  return check(native().open(path, flags), 'open', path);
}

/** close(2). */
export function close(fd: number): void {
  assertFd(fd);
  check(native().close(fd), 'close');
}

/**
 * An owned file descriptor: closed once, by {@link FileDescriptor.close} or by
 * `using`. Using it after close throws instead of reaching a reused number.
 */
export class FileDescriptor implements Disposable {
  #fd: number;

  constructor(fd: number) {
    assertFd(fd);
    this.#fd = fd;
  }

  /** The raw descriptor; throws `EBADF` once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new SysError(osConstants.errno.EBADF, 'fd', 'the file descriptor was closed');
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * pipe2(2) with O_CLOEXEC always added: `[readFd, writeFd]`. Both ends are
 * plain descriptors, usable from every thread (a vCPU thread writes console
 * output into one that the main thread reads as a stream).
 */
export function pipe(flags = 0): [number, number] {
  if (!Number.isInteger(flags)) throw new TypeError('flags must be an integer');
  const r = native().pipe(flags);
  if (typeof r === 'number') check(r, 'pipe2');
  return r as [number, number];
}

/**
 * One write(2) of `data`: the number of bytes written, or a negative errno
 * (-EAGAIN when a non-blocking descriptor is full, -EINTR when a signal such
 * as a thread kick interrupted it). Unlike `fs.writeSync`, which retries
 * EINTR inside libuv, a blocked call here can be interrupted. No argument
 * checks: the unchecked path for hot loops, like `ioctlRaw`.
 */
export function writeRaw(fd: number, data: Uint8Array): number {
  return native().write(fd, data);
}
