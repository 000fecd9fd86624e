/** Catching the loader's errors in tests. */
import { LinuxLoaderError, type LinuxLoaderErrorCode } from '../../src/index.js';

/** The LinuxLoaderError `fn` throws; fails the test if it throws nothing or something else. */
export function errorOf(fn: () => unknown): LinuxLoaderError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LinuxLoaderError) return e;
    throw e;
  }
  throw new Error('expected a LinuxLoaderError');
}

/** The code of the LinuxLoaderError `fn` throws, or undefined if it returns. */
export function codeOf(fn: () => unknown): LinuxLoaderErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof LinuxLoaderError) return e.code;
    throw e;
  }
  return undefined;
}
