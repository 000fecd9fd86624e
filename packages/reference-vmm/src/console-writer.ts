/**
 * Writes the guest's console bytes to a file descriptor from any thread, and
 * watches them for the kernel's panic line.
 */
import { writeSync } from 'node:fs';

const PANIC_LINE = Buffer.from('Kernel panic - not syncing');

/**
 * A sink for serial output: each byte is written at once (an interactive
 * shell echoes character by character), and a write that finds a
 * non-blocking descriptor full waits and retries instead of losing bytes.
 */
export function consoleWriter(fd: number, onPanicLine: () => void): (byte: number) => void {
  const one = new Uint8Array(1);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let matched = 0;
  return (byte: number) => {
    one[0] = byte;
    for (;;) {
      try {
        if (writeSync(fd, one) === 1) break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 1); // the reader is behind: wait 1 ms, never drop output
      }
    }
    // Rolling match of the panic line (its first byte does not recur in it, so a mismatch restarts cleanly).
    if (byte === PANIC_LINE[matched]) {
      matched++;
      if (matched === PANIC_LINE.length) {
        matched = 0;
        onPanicLine();
      }
    } else {
      matched = byte === PANIC_LINE[0] ? 1 : 0;
    }
  };
}
