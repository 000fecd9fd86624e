/** Shared bits of this package's tests. */
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { VirtioQueueError, type VirtioQueueErrorCode } from '../src/index.js';

/** 1 MiB of guest memory at 0, and 64 KiB more at 16 MiB (a gap between). */
export function testMemory(): GuestMemoryArrayBuffer {
  return GuestMemoryArrayBuffer.fromRanges([
    { start: 0n, size: 0x10_0000 },
    { start: 0x100_0000n, size: 0x1_0000 },
  ]);
}

/** The code of the VirtioQueueError `fn` throws, or 'ok'; anything else is rethrown. */
export function codeOf(fn: () => unknown): VirtioQueueErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof VirtioQueueError) return err.code;
    throw err;
  }
}

/** The VirtioQueueError `fn` throws. */
export function errorOf(fn: () => unknown): VirtioQueueError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VirtioQueueError) return err;
    throw err;
  }
  throw new Error('expected a VirtioQueueError');
}

export const bytes = (...values: number[]) => Uint8Array.from(values);
export const text = (s: string) => new TextEncoder().encode(s);
