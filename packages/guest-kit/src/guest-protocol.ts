/**
 * The contract between a VMM and the kit's guest: the kernel command line the
 * kit's kernel is meant to boot with, and the lines its /init prints.
 */

/**
 * The recommended kernel command line for the kit's kernel (see HOST.md):
 * serial console, no paravirt hypercalls (`nopv`, also needed for SMP on
 * software KVM), CPU features the host's instruction emulator lacks hidden,
 * the slow boot steps skipped, and `reboot=k`, so that the guest ends the VM
 * by resetting through the i8042 (port 0x64, value 0xfe).
 */
export const GUEST_KERNEL_CMDLINE: string = [
  'console=ttyS0',
  'quiet',
  'panic=-1',
  'noxsave',
  'clearcpuid=popcnt,smap,smep,erms,fsrm',
  'nosmap',
  'nosmep',
  'mitigations=off',
  'nopti',
  'nopv',
  '8250.nr_uarts=1',
  'tsc=reliable',
  'no_timer_check',
  'percpu_alloc=page',
  'rodata=off',
  'reboot=k',
].join(' ');

/** The line /init prints once /proc, /sys and /dev are mounted: user space is up. */
export const GUEST_BOOT_MARKER = 'TSVMM-GUEST-BOOTED';
/** The line /init prints before it runs the command from the kernel command line. */
export const GUEST_RUN_BEGIN_MARKER = 'TSVMM-RUN-BEGIN';
/** The start of the line /init prints after the command: `TSVMM-RUN-END status=<exit status>`. */
export const GUEST_RUN_END_MARKER = 'TSVMM-RUN-END';
/** The line /init prints when no command was given, before it starts an interactive shell. */
export const GUEST_SHELL_MARKER = 'TSVMM-SHELL';

/** x86's `COMMAND_LINE_SIZE`: the kernel keeps at most this many bytes of its command line, NUL included. */
export const COMMAND_LINE_SIZE = 2048;

/**
 * The kernel parameter that makes the kit's /init run `script` with `sh -c`:
 * `tsvmm.run=<base64 of the UTF-8 script>`. Append it to
 * {@link GUEST_KERNEL_CMDLINE}; the init prints the script's output between
 * {@link GUEST_RUN_BEGIN_MARKER} and a {@link GUEST_RUN_END_MARKER} line, then
 * ends the VM. Throws RangeError when the result would not fit in the command
 * line next to {@link GUEST_KERNEL_CMDLINE}.
 */
export function guestRunParam(script: string): string {
  if (typeof script !== 'string') throw new TypeError('script must be a string');
  if (script.length === 0) throw new RangeError('script must not be empty');
  const param = `tsvmm.run=${Buffer.from(script, 'utf8').toString('base64')}`;
  const total = Buffer.byteLength(GUEST_KERNEL_CMDLINE) + 1 + param.length + 1;
  if (total > COMMAND_LINE_SIZE) {
    throw new RangeError(
      `script too long: the command line would take ${total} bytes, the kernel keeps ${COMMAND_LINE_SIZE}`,
    );
  }
  return param;
}

/** What the guest's command printed and how it exited, from {@link parseGuestRun}. */
export interface GuestRunResult {
  /** Exit status of the command (0–255; 127 if the script was not valid base64). */
  readonly status: number;
  /** Everything printed between the two markers, lines joined with `\n` and `\r` removed. */
  readonly output: string;
}

const END_LINE = new RegExp(`^${GUEST_RUN_END_MARKER} status=(\\d{1,3})$`);

/**
 * Finds the framed output of a `tsvmm.run` command in a guest's console text
 * (which may hold kernel messages around it). Returns undefined until both
 * marker lines have arrived. The text comes from the guest: anything that is
 * not a well-formed frame is ignored, never thrown on.
 */
export function parseGuestRun(consoleText: string): GuestRunResult | undefined {
  if (typeof consoleText !== 'string') throw new TypeError('consoleText must be a string');
  const lines = consoleText.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const begin = lines.indexOf(GUEST_RUN_BEGIN_MARKER);
  if (begin < 0) return undefined;
  for (let i = begin + 1; i < lines.length; i++) {
    const match = END_LINE.exec(lines[i]!);
    if (match === null) continue;
    // The last line has no newline yet: the guest may still be writing it.
    if (i === lines.length - 1) return undefined;
    const status = Number(match[1]);
    if (status > 255) continue;
    return { status, output: lines.slice(begin + 1, i).join('\n') };
  }
  return undefined;
}
