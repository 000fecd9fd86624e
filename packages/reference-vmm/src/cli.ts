/**
 * The `reference-vmm` program: flags (or a Firecracker-style config file) in,
 * a VM on the terminal, and an exit status that says how the guest ended.
 *
 * The guest's serial console is the terminal: output goes straight to stdout
 * from the vCPU threads; stdin goes to the guest, in raw mode when it is a
 * terminal (restored on every way out). Ctrl-A x quits; Ctrl-A Ctrl-A sends
 * a Ctrl-A. SIGINT and SIGTERM stop the VM.
 */
import { parseCommandLine } from './config.js';
import { VmmError } from './errors.js';
import { EXIT_STATUS, EXIT_STATUS_USAGE, type VmExit } from './exit.js';
import { createVm, type Vm } from './vm.js';

const CTRL_A = 0x01;
const SIGNAL_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;

function report(message: string): void {
  process.stderr.write(`reference-vmm: ${message}\n`);
}

/** Turns terminal input into guest input, taking out the Ctrl-A escapes. */
export function escapeFilter(onQuit: () => void): (chunk: Buffer) => Buffer {
  let afterCtrlA = false;
  return (chunk) => {
    const out: number[] = [];
    for (const byte of chunk) {
      if (afterCtrlA) {
        afterCtrlA = false;
        if (byte === 0x78 /* x */) {
          onQuit();
          break;
        }
        out.push(byte); // Ctrl-A Ctrl-A, or Ctrl-A anything: pass the second byte
        continue;
      }
      if (byte === CTRL_A) afterCtrlA = true;
      else out.push(byte);
    }
    return Buffer.from(out);
  };
}

/** Runs the program; resolves with its exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    if (!(e instanceof VmmError)) throw e;
    report(e.message);
    return e.code === 'USAGE' ? EXIT_STATUS_USAGE : EXIT_STATUS.error;
  }
  if (parsed.kind === 'print') {
    process.stdout.write(`${parsed.text}\n`);
    return 0;
  }

  let vm: Vm;
  try {
    vm = await createVm(parsed.config, { consoleFd: 1 });
  } catch (e) {
    report(e instanceof Error ? e.message : String(e));
    return EXIT_STATUS.error;
  }

  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  const restore = () => {
    if (raw && stdin.isTTY) stdin.setRawMode(false);
  };
  process.once('exit', restore);
  let signal: keyof typeof SIGNAL_STATUS | undefined;
  const onSignal = (name: keyof typeof SIGNAL_STATUS) => () => {
    signal ??= name;
    void vm.stop(`stopped by ${name}`);
  };
  const onSigint = onSignal('SIGINT');
  const onSigterm = onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const filter = escapeFilter(() => void vm.stop('stopped from the console (Ctrl-A x)'));
  const onData = (chunk: Buffer) => vm.console.write(raw ? filter(chunk) : chunk);

  let exit: VmExit;
  try {
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onData);
    await vm.start();
    exit = await vm.wait();
  } catch (e) {
    await vm.stop('stopped after an error').catch(() => undefined);
    exit = { reason: 'error', message: e instanceof Error ? e.message : String(e) };
  } finally {
    stdin.off('data', onData);
    stdin.pause();
    restore();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  report(exit.message);
  if (exit.reason === 'stopped') return signal === undefined ? 0 : SIGNAL_STATUS[signal];
  return EXIT_STATUS[exit.reason];
}
