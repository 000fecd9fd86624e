/** Runs a TypeScript fixture of this package in a worker thread (see ts-loader.mjs). */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const loader = new URL('./ts-loader.mjs', import.meta.url).href;

/** Starts `fixture` (a .ts URL) in a worker with `workerData`. */
export function startWorker(fixture: URL, workerData: unknown): Worker {
  return new Worker(fixture, { workerData, execArgv: ['--import', loader] });
}

/** Runs `fixture` in a worker and resolves with the first message it posts. */
export async function runWorker<T>(fixture: URL, workerData: unknown): Promise<T> {
  const worker = startWorker(fixture, workerData);
  try {
    const failed = once(worker, 'error').then(([err]) => Promise.reject(err));
    const [message] = (await Promise.race([once(worker, 'message'), failed])) as [T];
    return message;
  } finally {
    await worker.terminate();
  }
}
