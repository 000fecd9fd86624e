import { VmMemoryError, type VmMemoryErrorCode } from '../../src/index.js';

/** The code of the VmMemoryError `fn` throws, or undefined if it returns; anything else is rethrown. */
export function errorCode(fn: () => unknown): VmMemoryErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof VmMemoryError) return err.code;
    throw err;
  }
  return undefined;
}
