/**
 * What the main thread and the I/O worker exchange. @internal
 */
import type { GuestMemoryDescriptor } from '@tsvmm/vm-memory';
import type { VirtioDeviceSpec } from '../device.js';
import type { VirtioDevicesErrorCode } from '../errors.js';
import type { VirtioMmioShared } from '../transport/mmio-transport.js';

/** One device the I/O thread serves. */
export interface IoThreadDevice {
  readonly spec: VirtioDeviceSpec;
  readonly transport: VirtioMmioShared;
}

/** The worker's `workerData`. */
export interface IoThreadWorkerData {
  readonly memory: GuestMemoryDescriptor;
  /** The eventfd vCPU threads write on DRIVER_OK and reset, and the main thread on stop. */
  readonly controlFd: number;
  /** Int32 words, see {@link IO_CONTROL}. */
  readonly control: SharedArrayBuffer;
  readonly devices: readonly IoThreadDevice[];
}

/** Word indexes of the I/O thread's control words. */
export const IO_CONTROL = {
  /** Set to 1 by the main thread to end the loop. */
  stop: 0,
  /** Loop iterations (epoll waits that returned), for diagnostics. */
  wakeups: 1,
  words: 2,
} as const;

/** Messages from the worker. */
export type IoThreadMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'log'; readonly message: string }
  | {
      readonly type: 'failed';
      readonly code: VirtioDevicesErrorCode;
      readonly message: string;
      readonly stack?: string;
    }
  | { readonly type: 'done' };
