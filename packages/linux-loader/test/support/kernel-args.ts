/**
 * How Linux splits its command line, written from kernel/params.c
 * (`next_arg()`, `parse_args()`) and init/main.c (arguments after `--` go
 * to init): the oracle the Cmdline tests check against.
 */

export interface KernelArg {
  param: string;
  val: string | null;
}

export interface ParsedCmdline {
  kernel: KernelArg[];
  init: KernelArg[] | null;
}

const isSpace = (c: string | undefined) => c !== undefined && /[\t\n\v\f\r ]/.test(c);

/** One `next_arg()` over `chars` from `start`; returns the arg and where the next one starts. */
function nextArg(chars: string[], start: number): { arg: KernelArg; next: number } {
  let at = start;
  let inQuote = false;
  let quoted = false;
  if (chars[at] === '"') {
    at++;
    inQuote = true;
    quoted = true;
  }
  let i = 0;
  let equals = 0;
  for (; at + i < chars.length && chars[at + i] !== '\0'; i++) {
    const c = chars[at + i];
    if (isSpace(c) && !inQuote) break;
    if (equals === 0 && c === '=') equals = i;
    if (c === '"') inQuote = !inQuote;
  }
  let valStart = -1;
  if (equals !== 0) {
    chars[at + equals] = '\0';
    valStart = at + equals + 1;
    if (chars[valStart] === '"') {
      valStart++;
      if (chars[at + i - 1] === '"') chars[at + i - 1] = '\0';
    }
  }
  if (quoted && i > 0 && chars[at + i - 1] === '"') chars[at + i - 1] = '\0';
  const terminatedAt = at + i;
  let next = terminatedAt;
  if (terminatedAt < chars.length) {
    chars[terminatedAt] = '\0';
    next++;
  }
  while (next < chars.length && isSpace(chars[next])) next++;
  const cString = (from: number) => {
    let s = '';
    for (let k = from; k < chars.length && chars[k] !== '\0'; k++) s += chars[k];
    return s;
  };
  return { arg: { param: cString(at), val: valStart < 0 ? null : cString(valStart) }, next };
}

function parseArgs(
  chars: string[],
  start: number,
  stopAtDashes: boolean,
): { args: KernelArg[]; rest: number | null } {
  const args: KernelArg[] = [];
  let at = start;
  while (at < chars.length && isSpace(chars[at])) at++;
  while (at < chars.length && chars[at] !== '\0') {
    const { arg, next } = nextArg(chars, at);
    at = next;
    if (stopAtDashes && arg.val === null && arg.param === '--') return { args, rest: at };
    args.push(arg);
  }
  return { args, rest: null };
}

/** Splits a command line the way Linux does. */
export function parseKernelCmdline(line: string): ParsedCmdline {
  const chars = [...line];
  const { args, rest } = parseArgs(chars, 0, true);
  return { kernel: args, init: rest === null ? null : parseArgs(chars, rest, false).args };
}
