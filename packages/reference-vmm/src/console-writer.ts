/**
 * Writes the guest's console bytes to a file descriptor from any thread, and
 * watches them for the kernel's panic line.
 */
import { SysError, writeRaw } from '@tsvmm/vmm-sys-util';

const EINTR = 4;
const EAGAIN = 11;

const PANIC_LINE = Buffer.from('Kernel panic - not syncing');

/**
 * A sink for serial output: each byte is written at once (an interactive
 * shell echoes character by character). A write that finds the descriptor
 * full (EAGAIN on a non-blocking one) waits and retries, and so does one
 * interrupted by a signal (EINTR: the VMM kicks vCPU threads), so that no
 * byte is lost while the VM runs. Once `stopRequested()` is true a byte that
 * cannot be written is dropped: nobody is reading, and the VM must end.
 */
export function consoleWriter(
  fd: number,
  onPanicLine: () => void,
  stopRequested: () => boolean,
): (byte: number) => void {
  const one = new Uint8Array(1);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let matched = 0;
  return (byte: number) => {
    one[0] = byte;
    for (;;) {
      const r = writeRaw(fd, one);
      if (r === 1) break;
      if (r !== -EINTR && r !== -EAGAIN) throw new SysError(-r, 'write', 'guest console output');
      if (stopRequested()) break;
      if (r === -EAGAIN) Atomics.wait(pause, 0, 0, 1); // the reader is behind: wait 1 ms
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
