/**
 * The eventfd seams interrupts are built on.
 *
 * Devices never load the native addon: an interrupt only needs something it
 * can `write()` (and, for resampling, `read()`). `@tsvmm/vmm-sys-util`'s
 * `EventFd` satisfies these interfaces; {@link RawEventFd} does too, from a
 * bare descriptor number, so a worker thread can signal an eventfd another
 * thread created (descriptors are process-wide).
 */
import { readSync, writeSync } from 'node:fs';

/** Something an interrupt can signal: an eventfd counter. */
export interface EventNotifier {
  /** Adds `value` (1 when omitted) to the counter. */
  write(value?: number | bigint): void;
}

/** An eventfd a thread can signal and drain, and whose number it can pass on. */
export interface EventFdLike extends EventNotifier {
  /** The descriptor number, valid on every thread of the process. */
  readonly fd: number;
  /** Reads and resets the counter; 0n when it was 0 (non-blocking eventfd). */
  read(): bigint;
}

/**
 * A non-owning handle on an eventfd descriptor created elsewhere (for example
 * an irqfd registered by the main thread), usable from any thread. It never
 * closes the descriptor: its owner does. Reads are meant for non-blocking
 * eventfds (`EFD_NONBLOCK`) or for after epoll reported them readable; a
 * blocking eventfd whose counter is 0 blocks the calling thread.
 */
export class RawEventFd implements EventFdLike {
  /** The descriptor number. */
  readonly fd: number;
  readonly #buf = Buffer.alloc(8);

  /** @param fd - an open eventfd descriptor */
  constructor(fd: number) {
    if (typeof fd !== 'number' || !Number.isInteger(fd))
      throw new TypeError(`fd must be an integer, got ${String(fd)}`);
    if (fd < 0 || fd > 0x7fffffff)
      throw new RangeError(`fd must be a non-negative 32-bit integer, got ${fd}`);
    this.fd = fd;
  }

  /** Adds `value` (default 1) to the counter; throws Node's system error on failure. */
  write(value: number | bigint = 1n): void {
    const v = BigInt(value);
    if (v < 1n || v > 0xffff_ffff_ffff_fffen) throw new RangeError(`value must be in 1..2^64-2, got ${v}`);
    this.#buf.writeBigUInt64LE(v, 0);
    writeSync(this.fd, this.#buf, 0, 8, null);
  }

  /** Reads and resets the counter; returns 0n instead of failing with EAGAIN. */
  read(): bigint {
    try {
      readSync(this.fd, this.#buf, 0, 8, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return 0n;
      throw e;
    }
    return this.#buf.readBigUInt64LE(0);
  }
}
