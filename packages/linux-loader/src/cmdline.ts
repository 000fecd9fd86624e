/**
 * The kernel command line, built and checked on the host so that the guest
 * parses exactly what was meant.
 *
 * The rules follow the kernel's own parser (`next_arg()` in kernel/params.c):
 * arguments are separated by spaces outside double quotes, a `"` anywhere
 * toggles quoting, the first `=` splits a key from its value, and a bare `--`
 * ends the kernel's arguments; what follows it goes to init.
 */
import { LinuxLoaderError } from './errors.js';

const SPACE = 0x20;
const QUOTE = 0x22;
const U64_LIMIT = 1n << 64n;

function invalid(code: ConstructorParameters<typeof LinuxLoaderError>[0], message: string): LinuxLoaderError {
  return new LinuxLoaderError(code, message);
}

/** Throws `CMDLINE_INVALID_CHARACTER` unless every character is printable ASCII. */
function checkPrintable(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw invalid(
        'CMDLINE_INVALID_CHARACTER',
        `${what} has character U+${c.toString(16).padStart(4, '0')} at index ${i}; only printable ASCII (0x20-0x7e) is allowed`,
      );
    }
  }
}

/** Throws `CMDLINE_UNBALANCED_QUOTES` if `text` leaves a double quote open. */
function checkQuotes(text: string, what: string): void {
  let quotes = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === QUOTE) quotes++;
  if (quotes % 2 !== 0) throw invalid('CMDLINE_UNBALANCED_QUOTES', `${what} has an unbalanced double quote`);
}

/**
 * Splits `text` into arguments the way the kernel does: at spaces outside
 * double quotes. Returns [start, end) index pairs.
 */
function splitArguments(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && text.charCodeAt(i) === SPACE) i++;
    if (i === text.length) break;
    const start = i;
    let inQuote = false;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === SPACE && !inQuote) break;
      if (c === QUOTE) inQuote = !inQuote;
    }
    out.push([start, i]);
  }
  return out;
}

/** Whether `text` has a space that the kernel would take as the end of an argument. */
function hasUnquotedSpace(text: string): boolean {
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuote = !inQuote;
    else if (c === SPACE && !inQuote) return true;
  }
  return false;
}

/** Whether an argument is the `--` that ends kernel arguments (quotes stripped like the kernel does). */
function isInitSeparator(arg: string): boolean {
  if (arg.includes('=')) return false;
  let param = arg;
  if (param.startsWith('"')) {
    param = param.slice(1);
    if (param.endsWith('"')) param = param.slice(0, -1);
  }
  return param === '--';
}

/** Checks a raw run of arguments; returns it without surrounding spaces. */
function checkRaw(raw: string, what: string, allowSeparator: boolean): string {
  if (typeof raw !== 'string') throw new TypeError(`${what} must be a string`);
  checkPrintable(raw, what);
  checkQuotes(raw, what);
  if (!allowSeparator) {
    for (const [s, e] of splitArguments(raw)) {
      if (isInitSeparator(raw.slice(s, e))) {
        throw invalid(
          'CMDLINE_INIT_SEPARATOR',
          `${what} contains a bare "--", which would end the kernel's arguments; pass init arguments with insertInitArgs`,
        );
      }
    }
  }
  return raw.replace(/^ +| +$/g, '');
}

function formatValue(value: string | number | bigint, key: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`the value of ${key} must be a string, a finite number or a bigint`);
}

/** Formats a byte count with the largest exact K/M/G suffix the kernel's `memparse()` reads. */
function formatSize(size: bigint): string {
  for (const [suffix, shift] of [
    ['G', 30n],
    ['M', 20n],
    ['K', 10n],
  ] as const) {
    if (size % (1n << shift) === 0n) return `${size >> shift}${suffix}`;
  }
  return size.toString();
}

function toU64(value: bigint | number, what: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be a bigint or a safe integer`);
    value = BigInt(value);
  } else if (typeof value !== 'bigint') {
    throw new TypeError(`${what} must be a bigint or a safe integer`);
  }
  if (value < 0n || value >= U64_LIMIT) throw new RangeError(`${what} ${value} is outside [0, 2^64)`);
  return value;
}

/**
 * A kernel command line with a fixed capacity. The capacity counts the
 * terminating NUL, so for a bzImage it is `setupHeader.cmdlineSize + 1`.
 * Every method validates its input and leaves the line unchanged when it
 * throws.
 *
 * @example
 * ```ts
 * const cmdline = new Cmdline(2048)
 *   .insertStr('console=ttyS0 quiet')
 *   .insert('panic', -1)
 *   .addVirtioMmioDevice(0x1000n, 0xd0000000n, 5)
 *   .insertInitArgs('--verbose');
 * cmdline.toString();
 * // 'console=ttyS0 quiet panic=-1 virtio_mmio.device=4K@0xd0000000:5 -- --verbose'
 * ```
 */
export class Cmdline {
  /** The most bytes the line may take, its terminating NUL included. */
  readonly capacity: number;
  #boot = '';
  #init = '';

  /**
   * @param capacity - bytes available for the line including its NUL; at least 1.
   * @throws RangeError if `capacity` is not a positive safe integer.
   */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `capacity must be a positive integer (it counts the NUL), got ${String(capacity)}`,
      );
    }
    this.capacity = capacity;
  }

  /**
   * Parses an existing command line: the part before the first bare `--`
   * becomes kernel arguments, the rest init arguments.
   * @throws LinuxLoaderError `CMDLINE_INVALID_CHARACTER`, `CMDLINE_UNBALANCED_QUOTES`, `CMDLINE_TOO_LONG`.
   */
  static from(raw: string, capacity: number): Cmdline {
    const cmdline = new Cmdline(capacity);
    const text = checkRaw(raw, 'the command line', true);
    const separator = splitArguments(text).find(([s, e]) => isInitSeparator(text.slice(s, e)));
    if (separator === undefined) return cmdline.insertStr(text);
    const boot = text.slice(0, separator[0]);
    const init = text.slice(separator[1]);
    cmdline.#commit(checkRaw(boot, 'the command line', false), checkRaw(init, 'init arguments', true));
    return cmdline;
  }

  /** Length of the line in bytes, without the NUL. */
  get length(): number {
    return Cmdline.#render(this.#boot, this.#init).length;
  }

  /**
   * Appends `key=value`.
   * @throws LinuxLoaderError `CMDLINE_EMPTY_KEY`, `CMDLINE_INVALID_CHARACTER`, `CMDLINE_SPACE_IN_KEY`,
   * `CMDLINE_EQUALS_IN_KEY`, `CMDLINE_QUOTE_IN_KEY`, `CMDLINE_UNBALANCED_QUOTES`,
   * `CMDLINE_SPACE_IN_VALUE`, `CMDLINE_TOO_LONG`.
   */
  insert(key: string, value: string | number | bigint): this {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    const val = formatValue(value, key);
    if (key.length === 0) throw invalid('CMDLINE_EMPTY_KEY', 'a command line key cannot be empty');
    checkPrintable(key, `key ${JSON.stringify(key)}`);
    if (key.includes(' '))
      throw invalid('CMDLINE_SPACE_IN_KEY', `key ${JSON.stringify(key)} contains a space`);
    if (key.includes('=')) throw invalid('CMDLINE_EQUALS_IN_KEY', `key ${JSON.stringify(key)} contains "="`);
    if (key.includes('"'))
      throw invalid('CMDLINE_QUOTE_IN_KEY', `key ${JSON.stringify(key)} contains a quote`);
    checkPrintable(val, `the value of ${key}`);
    checkQuotes(val, `the value of ${key}`);
    if (hasUnquotedSpace(val)) {
      throw invalid(
        'CMDLINE_SPACE_IN_VALUE',
        `the value of ${key} has a space outside double quotes: ${JSON.stringify(val)}`,
      );
    }
    this.#commit(Cmdline.#join(this.#boot, `${key}=${val}`), this.#init);
    return this;
  }

  /**
   * Appends one or more raw kernel arguments, e.g. `'console=ttyS0 quiet'`.
   * Surrounding spaces are dropped; an empty string changes nothing.
   * @throws LinuxLoaderError `CMDLINE_INVALID_CHARACTER`, `CMDLINE_UNBALANCED_QUOTES`,
   * `CMDLINE_INIT_SEPARATOR`, `CMDLINE_TOO_LONG`.
   */
  insertStr(raw: string): this {
    const text = checkRaw(raw, 'the inserted string', false);
    this.#commit(Cmdline.#join(this.#boot, text), this.#init);
    return this;
  }

  /**
   * Appends arguments for init; they are rendered after ` -- `, behind all
   * kernel arguments (also those inserted later).
   * @throws LinuxLoaderError `CMDLINE_INVALID_CHARACTER`, `CMDLINE_UNBALANCED_QUOTES`, `CMDLINE_TOO_LONG`.
   */
  insertInitArgs(raw: string): this {
    const text = checkRaw(raw, 'init arguments', true);
    this.#commit(this.#boot, Cmdline.#join(this.#init, text));
    return this;
  }

  /**
   * Appends `virtio_mmio.device=<size>@0x<base>:<irq>[:<id>]`, the form
   * `virtio_mmio` reads with `CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES`. The size is
   * written with a K/M/G suffix when it is an exact multiple.
   * @param size - bytes of the device's MMIO window, > 0.
   * @param baseAddress - guest physical address of the window.
   * @param irq - the device's interrupt (GSI), 1 to 2^32 - 1.
   * @param id - platform device id, if the device needs a fixed one.
   * @throws RangeError for a zero size, a window past 2^64, an out-of-range irq or id.
   * @throws LinuxLoaderError `CMDLINE_TOO_LONG`.
   */
  addVirtioMmioDevice(size: bigint | number, baseAddress: bigint | number, irq: number, id?: number): this {
    const bytes = toU64(size, 'size');
    const base = toU64(baseAddress, 'baseAddress');
    if (bytes === 0n) throw new RangeError('a virtio-mmio window cannot be empty');
    if (base + bytes > U64_LIMIT) throw new RangeError('the virtio-mmio window ends past 2^64');
    if (!Number.isInteger(irq) || irq < 1 || irq > 0xffff_ffff) {
      throw new RangeError(`irq must be an integer in [1, 2^32), got ${String(irq)}`);
    }
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0x7fff_ffff)) {
      throw new RangeError(`id must be an integer in [0, 2^31), got ${String(id)}`);
    }
    const suffix = id === undefined ? '' : `:${id}`;
    return this.insert('virtio_mmio.device', `${formatSize(bytes)}@0x${base.toString(16)}:${irq}${suffix}`);
  }

  /** The line as the kernel will read it, without the NUL. */
  toString(): string {
    return Cmdline.#render(this.#boot, this.#init);
  }

  /** The line as bytes, with its terminating NUL. */
  toBytes(): Uint8Array {
    const text = this.toString();
    const out = new Uint8Array(text.length + 1);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }

  #commit(boot: string, init: string): void {
    const length = Cmdline.#render(boot, init).length;
    if (length + 1 > this.capacity) {
      throw invalid(
        'CMDLINE_TOO_LONG',
        `the command line would take ${length + 1} bytes with its NUL; the capacity is ${this.capacity}`,
      );
    }
    this.#boot = boot;
    this.#init = init;
  }

  static #join(a: string, b: string): string {
    if (b.length === 0) return a;
    return a.length === 0 ? b : `${a} ${b}`;
  }

  static #render(boot: string, init: string): string {
    if (init.length === 0) return boot;
    return boot.length === 0 ? `-- ${init}` : `${boot} -- ${init}`;
  }
}
