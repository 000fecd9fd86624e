import { check } from './errors.js';
import { FileDescriptor } from './fd.js';
import { native } from './native.js';
import { assertU32, assertU64 } from './validate.js';

export const EFD_SEMAPHORE = 1;
export const EFD_NONBLOCK = 0o4000;

/**
 * An eventfd(2) counter: KVM signals it for ioeventfds, and writing it raises
 * an irqfd's interrupt. The fd number is valid on every thread of the process.
 */
export class EventFd extends FileDescriptor {
  constructor(initval = 0, flags = 0) {
    assertU32(initval, 'initval');
    assertU32(flags, 'flags');
    super(check(native().eventfd(initval, flags), 'eventfd'));
  }

  /** Adds `value` (default 1) to the counter. */
  write(value: number | bigint = 1n): void {
    assertU64(value, 'value');
    check(native().eventfdWrite(this.fd, BigInt(value)), 'write(eventfd)');
  }

  /**
   * Reads and resets the counter. On a non-blocking eventfd whose counter is
   * 0 this returns 0n instead of throwing EAGAIN.
   */
  read(): bigint {
    const r = native().eventfdRead(this.fd);
    if (typeof r === 'bigint') return r;
    if (r === -11) return 0n; // EAGAIN: nothing signalled yet
    check(r, 'read(eventfd)');
    return 0n;
  }
}
