/**
 * What a vCPU handler module (the module a {@link VcpuThread} loads in its
 * worker) exports and receives. The module exports
 *
 * ```ts
 * export function setup(context: VcpuContext<MyData>): ExitHandler | Promise<ExitHandler>
 * ```
 *
 * `setup` runs once in the worker: it builds the worker's side of the VMM
 * (devices over shared state, views of guest memory) from `context.data`,
 * and returns the function that handles every exit, on that thread.
 */

import type { VcpuFd } from './vcpu.js';
import type { VcpuExit } from './vcpu-exit.js';

/** Ends a vCPU loop from its exit handler; `reason` and `detail` reach the main thread (structured clone). */
export interface VcpuStop {
  readonly stop: string;
  readonly detail?: unknown;
}

/**
 * Handles one exit in place (e.g. writes an IoIn's `data`), then returns
 * nothing to run the guest again, or a {@link VcpuStop} to end the loop.
 * An exception ends the loop too, and rejects the thread's `done` promise.
 */
export type ExitHandler = (exit: VcpuExit) => VcpuStop | undefined;

/** What `setup` receives in the worker. */
export interface VcpuContext<D = unknown> {
  /** The vCPU, as seen from this worker (its own mapping of `kvm_run`; closing it does not close the fd). */
  readonly vcpu: VcpuFd;
  /** The `data` given to `VcpuThread.start` (SharedArrayBuffers in it are shared with the main thread). */
  readonly data: D;
  /** Whether the main thread asked this vCPU to stop (for a handler that waits on something itself). */
  stopRequested(): boolean;
}

/** The `setup` export of a handler module. */
export type VcpuSetup<D = unknown> = (context: VcpuContext<D>) => ExitHandler | Promise<ExitHandler>;

/** How a vCPU thread's loop ended. `exits` counts the exits handed to the handler. */
export type VcpuThreadResult =
  | { readonly kind: 'Stopped'; readonly exits: number }
  | {
      readonly kind: 'HandlerStop';
      readonly reason: string;
      readonly detail: unknown;
      readonly exits: number;
    };

/** Layout of the control block a VcpuThread shares with its worker (Int32 indices; the pthread at byte 16). @internal */
export const CONTROL = {
  bytes: 24,
  stop: 0,
  state: 1,
  tid: 2,
  pthreadByte: 16,
  starting: 0,
  running: 1,
  ended: 2,
} as const;

/** What the worker receives as `workerData`. @internal */
export interface VcpuWorkerData {
  readonly fd: number;
  readonly id: number;
  readonly mmapSize: number;
  readonly handler: string;
  readonly data: unknown;
  readonly control: SharedArrayBuffer;
}
