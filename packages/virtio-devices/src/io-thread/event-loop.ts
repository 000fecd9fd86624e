/**
 * The I/O thread's event loop: one epoll set over queue ioeventfds, backend
 * descriptors and the control eventfd, each with its handler.
 */
import { Epoll } from '@tsvmm/vmm-sys-util';
import type { VirtioEventHandler, VirtioEventLoop } from '../device.js';

interface Entry {
  readonly fd: number;
  readonly handler: VirtioEventHandler;
}

/** An epoll loop whose descriptors each have a handler. Not thread-safe: one thread runs it. */
export class IoEventLoop implements VirtioEventLoop {
  readonly #epoll = new Epoll();
  readonly #byKey = new Map<number, Entry>();
  readonly #keyOf = new Map<number, number>();
  #nextKey = 1;

  /**
   * Waits for `events` on `fd` and calls `handler` with the ready bits.
   * @throws SysError from epoll_ctl (e.g. EEXIST when `fd` is already added, EPERM for a regular file).
   */
  add(fd: number, events: number, handler: VirtioEventHandler): void {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    const key = this.#nextKey;
    this.#epoll.add(fd, events, key);
    this.#nextKey = key === 0xffff_ffff ? 1 : key + 1;
    this.#byKey.set(key, { fd, handler });
    this.#keyOf.set(fd, key);
  }

  /** Changes the events waited for on `fd`. */
  modify(fd: number, events: number): void {
    const key = this.#keyOf.get(fd);
    if (key === undefined) throw new RangeError(`fd ${fd} is not in the event loop`);
    this.#epoll.modify(fd, events, key);
  }

  /** Stops waiting on `fd`; events already collected for it are dropped. */
  remove(fd: number): void {
    const key = this.#keyOf.get(fd);
    if (key === undefined) throw new RangeError(`fd ${fd} is not in the event loop`);
    this.#keyOf.delete(fd);
    this.#byKey.delete(key);
    this.#epoll.remove(fd);
  }

  /** How many descriptors are waited on. */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Waits up to `timeoutMs` (-1: until something is ready) and runs the
   * handlers of what is ready. Returns how many ran. What a handler throws
   * propagates (the rest of the batch is then not run).
   */
  runOnce(timeoutMs = -1): number {
    let ran = 0;
    this.#epoll.wait(timeoutMs, (events, key) => {
      const entry = this.#byKey.get(key);
      if (entry === undefined) return; // removed by an earlier handler of this batch
      ran++;
      entry.handler(events);
    });
    return ran;
  }

  /** Closes the epoll descriptor (not the descriptors waited on). */
  close(): void {
    this.#byKey.clear();
    this.#keyOf.clear();
    this.#epoll.close();
  }
}
