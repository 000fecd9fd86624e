import { check } from './errors.js';
import { FileDescriptor } from './fd.js';
import { native } from './native.js';
import { assertFd, assertU32 } from './validate.js';

export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLET = 1 << 31;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;

/** One ready event: the events that happened and the key it was registered with. */
export interface EpollEvent {
  events: number;
  key: number;
}

/**
 * epoll(7). `wait` blocks its thread: call it from a worker (an I/O thread),
 * never from the thread that runs Node's event loop unless the timeout is 0.
 */
export class Epoll extends FileDescriptor {
  readonly #out = new Uint32Array(128);

  constructor() {
    super(check(native().epollCreate(), 'epoll_create1'));
  }

  add(fd: number, events: number, key: number): void {
    this.#ctl(EPOLL_CTL_ADD, fd, events, key);
  }

  modify(fd: number, events: number, key: number): void {
    this.#ctl(EPOLL_CTL_MOD, fd, events, key);
  }

  remove(fd: number): void {
    this.#ctl(EPOLL_CTL_DEL, fd, 0, 0);
  }

  /**
   * Waits up to `timeoutMs` (-1 forever) and calls `onEvent` for each ready
   * fd. Returns the number of events; 0 on timeout or when interrupted by a
   * signal (EINTR), so that a kicked I/O thread can look at its stop flag.
   */
  wait(timeoutMs: number, onEvent: (events: number, key: number) => void): number {
    if (!Number.isInteger(timeoutMs) || timeoutMs < -1)
      throw new RangeError('timeoutMs must be -1 or a non-negative integer');
    const n = native().epollWait(this.fd, this.#out, timeoutMs);
    if (n === -4) return 0; // EINTR
    check(n, 'epoll_wait');
    const out = this.#out;
    for (let i = 0; i < n; i++) onEvent(out[2 * i]!, out[2 * i + 1]!);
    return n;
  }

  #ctl(op: number, fd: number, events: number, key: number): void {
    assertFd(fd);
    assertU32(events >>> 0, 'events');
    assertU32(key, 'key');
    check(native().epollCtl(this.fd, op, fd, events >>> 0, key), 'epoll_ctl');
  }
}
