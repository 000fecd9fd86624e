/**
 * Starts a worker_thread on a TypeScript fixture, through the module hooks
 * vm-device's tests use (they transpile the sources on the fly).
 */
import { Worker } from 'node:worker_threads';

const register = new URL('../../../vm-device/test/support/ts-register.mjs', import.meta.url).href;

/** A Worker running the .ts file at `file` with `workerData`. */
export function tsWorker(file: URL, workerData: unknown): Worker {
  return new Worker(file, { workerData, execArgv: ['--import', register] });
}

/** Resolves with the worker's first message; rejects on its error. */
export function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}
