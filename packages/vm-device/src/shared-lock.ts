/**
 * A mutex over one Int32 word of shared memory, for device state that the
 * device objects of several threads (vCPU workers, the main thread, an I/O
 * worker) read and write.
 *
 * Futex-style (three states: 0 free, 1 held, 2 held with waiters): an
 * uncontended lock and unlock are one atomic operation each; a contended
 * lock spins briefly, then sleeps in `Atomics.wait`. Not reentrant. Keep
 * critical sections short and never call out to user code (output sinks,
 * interrupts) while holding it.
 *
 * A thread that is terminated (`worker.terminate()`) while it holds the lock
 * leaves it held, and every other thread then waits forever: stop a vCPU
 * worker by ending its run loop, and terminate it only after that.
 */

const FREE = 0;
const HELD = 1;
const CONTENDED = 2;
const SPINS = 100;

/** A lock on word `index` of a shared `Int32Array`. */
export class SharedLock {
  readonly #words: Int32Array;
  readonly #index: number;

  /**
   * @param words - an Int32Array over a SharedArrayBuffer; a new one-word buffer when omitted
   * @param index - which word of `words` is the lock (initially 0)
   */
  constructor(words: Int32Array = new Int32Array(new SharedArrayBuffer(4)), index = 0) {
    if (!(words instanceof Int32Array) || !(words.buffer instanceof SharedArrayBuffer))
      throw new TypeError('words must be an Int32Array over a SharedArrayBuffer');
    if (!Number.isInteger(index) || index < 0 || index >= words.length)
      throw new RangeError(`index must be in 0..${words.length - 1}, got ${index}`);
    this.#words = words;
    this.#index = index;
  }

  /** Takes the lock, waiting as long as another thread holds it. */
  lock(): void {
    const w = this.#words;
    const i = this.#index;
    let c = Atomics.compareExchange(w, i, FREE, HELD);
    if (c === FREE) return;
    for (let n = 0; n < SPINS && c === HELD; n++) {
      c = Atomics.compareExchange(w, i, FREE, HELD);
      if (c === FREE) return;
    }
    if (c !== CONTENDED) c = Atomics.exchange(w, i, CONTENDED);
    while (c !== FREE) {
      Atomics.wait(w, i, CONTENDED);
      c = Atomics.exchange(w, i, CONTENDED);
    }
  }

  /** Takes the lock if it is free; returns whether it did. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#words, this.#index, FREE, HELD) === FREE;
  }

  /** Releases the lock, waking one waiter if there is one. */
  unlock(): void {
    const w = this.#words;
    const i = this.#index;
    if (Atomics.sub(w, i, 1) !== HELD) {
      Atomics.store(w, i, FREE);
      Atomics.notify(w, i, 1);
    }
  }
}
