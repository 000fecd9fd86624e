/**
 * Starts a worker_thread on a TypeScript file of this repository (the
 * sources, not dist/), for tests of state shared between threads.
 */
import { once } from 'node:events';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const register = new URL('./ts-register.mjs', import.meta.url).href;

/** A Worker running `file` (a URL of a .ts file) with `workerData`. */
export function tsWorker(file: URL, workerData?: unknown, options: WorkerOptions = {}): Worker {
  return new Worker(file, { ...options, workerData, execArgv: ['--import', register] });
}

/** Runs `file` in a worker to completion and returns the first message it posted. */
export async function runTsWorker<T>(file: URL, workerData?: unknown): Promise<T> {
  const worker = tsWorker(file, workerData);
  const errored = once(worker, 'error').then(([e]) => Promise.reject(e));
  try {
    const [message] = (await Promise.race([once(worker, 'message'), errored])) as [T];
    return message;
  } finally {
    await worker.terminate();
  }
}
