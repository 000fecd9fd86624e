import { describe, expect, it } from 'vitest';
import { SharedLock } from '../src/index.js';
import { incrementUnderLock } from './support/locked-counter.js';
import { tsWorker } from './support/ts-worker.js';

describe('SharedLock', () => {
  it('lets one holder in at a time and hands over on unlock', () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    const a = new SharedLock(words, 1);
    const b = new SharedLock(words, 1);
    expect(a.tryLock()).toBe(true);
    expect(b.tryLock()).toBe(false);
    a.unlock();
    expect(b.tryLock()).toBe(true);
    b.unlock();
    expect(words[1]).toBe(0);
    a.lock();
    expect(words[1]).toBe(1);
    a.unlock();
  });

  it('makes read-modify-write of shared memory exact across worker threads and the main thread', async () => {
    // 0: the lock, 1: the counter, 2: scratch, 3: start flag, 4: workers ready
    const words = new Int32Array(new SharedArrayBuffer(20));
    const iterations = 20_000;
    const workers = [0, 1, 2].map(() =>
      tsWorker(new URL('./fixtures/lock-worker.ts', import.meta.url), { words, iterations }),
    );
    const done = workers.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    while (Atomics.load(words, 4) < workers.length) await new Promise((resolve) => setTimeout(resolve, 5));
    Atomics.store(words, 3, 1);
    Atomics.notify(words, 3);
    // The main thread contends too.
    incrementUnderLock(new SharedLock(words, 0), words, iterations);
    await Promise.all(done);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(words[1]).toBe(4 * iterations);
    expect(words[0]).toBe(0);
  }, 60_000);

  it('rejects memory that is not shared and indexes outside it', () => {
    expect(() => new SharedLock(new Int32Array(4))).toThrow(TypeError);
    expect(() => new SharedLock(new Int32Array(new SharedArrayBuffer(8)), 2)).toThrow(RangeError);
    expect(() => new SharedLock(new Int32Array(new SharedArrayBuffer(8)), -1)).toThrow(RangeError);
    expect(new SharedLock().tryLock()).toBe(true);
  });
});
