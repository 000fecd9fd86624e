/**
 * Increments a plain (non-atomic) counter in shared memory `iterations`
 * times under `lock`, with a window in which an unlocked increment would be
 * lost. Word 1 is the counter, word 2 scratch.
 */
import type { SharedLock } from '../../src/index.js';

export function incrementUnderLock(lock: SharedLock, words: Int32Array, iterations: number): void {
  for (let i = 0; i < iterations; i++) {
    lock.lock();
    const v = words[1]!;
    for (let spin = 0; spin < 20; spin++) words[2] = spin;
    words[1] = v + 1;
    lock.unlock();
  }
}
