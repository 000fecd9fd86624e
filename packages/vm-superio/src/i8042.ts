/**
 * An i8042 keyboard controller (ports 0x60 and 0x64) with a PS/2 keyboard
 * behind it and no mouse, mainly so that the guest can reset the machine.
 *
 * Linux with `reboot=k` reboots by writing the "pulse reset line" command
 * 0xfe to port 0x64; writing the output port (command 0xd1) with bit 0
 * clear does the same. Either calls the `onReset` callback, on the thread
 * of the vCPU that wrote it: the VMM then stops the VM with a "reboot"
 * status.
 *
 * Beyond that, the controller answers what Linux's i8042 driver probes: the
 * self tests (0xaa → 0x55, 0xab/0xa9 → 0x00), the command byte (0x20/0x60,
 * and the rest of the controller RAM), keyboard and aux port enable/disable
 * reflected in the command byte, the aux loopback (0xd3) and keyboard
 * loopback (0xd2). The keyboard acknowledges the usual PS/2 commands (reset
 * with a passed self test, identify as an MF2 keyboard, LEDs, typematic,
 * scan code set, echo). Bytes sent to the aux device (0xd4) come back as
 * 0xfe with the timeout bit: no mouse is connected.
 *
 * Each byte that reaches the output buffer raises the keyboard interrupt
 * (IRQ 1) or, for aux bytes, the aux interrupt (IRQ 12), when given and
 * enabled in the command byte. Without them Linux's driver falls back to
 * waiting for timeouts; a guest without an i8042 driver only needs the reset.
 */
import type { EdgeInterrupt, PioAddress } from '@tsvmm/vm-device';
import {
  assertEdgeInterrupt,
  assertFunction,
  type DeviceLog,
  FIRST_DEVICE_WORD,
  type SharedDeviceState,
  SharedPortDevice,
} from './shared-state.js';

/** The data port. */
export const I8042_DATA_PORT = 0x60;
/** The status (read) and command (write) port. */
export const I8042_COMMAND_PORT = 0x64;
/** The keyboard's IRQ. */
export const I8042_KBD_IRQ = 1;
/** The aux (mouse) port's IRQ. */
export const I8042_AUX_IRQ = 12;

/** Status: output buffer full. */
export const I8042_STR_OBF = 0x01;
/** Status: input buffer full (never: commands complete at once). */
export const I8042_STR_IBF = 0x02;
/** Status: system flag (the controller passed its self test). */
export const I8042_STR_SYSFLAG = 0x04;
/** Status: the last write was a command (port 0x64). */
export const I8042_STR_CMDDAT = 0x08;
/** Status: keyboard not inhibited. */
export const I8042_STR_KEYLOCK = 0x10;
/** Status: the output buffer holds an aux byte. */
export const I8042_STR_AUXDATA = 0x20;
/** Status: the device did not answer in time. */
export const I8042_STR_TIMEOUT = 0x40;

/** Command byte: keyboard interrupt enabled. */
export const I8042_CTR_KBDINT = 0x01;
/** Command byte: aux interrupt enabled. */
export const I8042_CTR_AUXINT = 0x02;
/** Command byte: system flag. */
export const I8042_CTR_SYSFLAG = 0x04;
/** Command byte: keyboard port disabled. */
export const I8042_CTR_KBDDIS = 0x10;
/** Command byte: aux port disabled. */
export const I8042_CTR_AUXDIS = 0x20;
/** Command byte: translate scan codes to set 1. */
export const I8042_CTR_XLATE = 0x40;

/** Called when the guest resets the machine through the controller. */
export type ResetCallback = () => void;

/** How an `I8042Device` object reaches the world on its thread. */
export interface I8042Options {
  /** Called (outside the device lock) when the guest pulses the reset line. */
  readonly onReset: ResetCallback;
  /** IRQ 1, raised for keyboard and controller bytes while the command byte enables it. */
  readonly keyboardInterrupt?: EdgeInterrupt;
  /** IRQ 12, raised for aux bytes while the command byte enables it. */
  readonly auxInterrupt?: EdgeInterrupt;
  /** Receives one warning per kind of bad guest access; default `console.warn`. */
  readonly log?: DeviceLog;
}

/** Counters of one controller, shared by all its objects. */
export interface I8042Metrics {
  /** Resets the guest requested. */
  readonly resets: number;
  /** Interrupts raised (both lines). */
  readonly interrupts: number;
  /** Bad sizes, unknown commands, bytes lost to a full output buffer. */
  readonly invalidAccesses: number;
}

// Shared words after the common header.
const STATUS_CMD = FIRST_DEVICE_WORD; // I8042_STR_CMDDAT as last set
const PENDING_CMD = STATUS_CMD + 1; // controller command waiting for its data byte, or 0
const KBD_PENDING = STATUS_CMD + 2; // keyboard command waiting for its parameter, or 0
const OUTPUT_PORT = STATUS_CMD + 3;
const OUT_HEAD = STATUS_CMD + 4;
const OUT_COUNT = STATUS_CMD + 5;
const LAST_DATA = STATUS_CMD + 6;
const SCANCODE_SET = STATUS_CMD + 7;
const M_RESETS = STATUS_CMD + 8;
const M_IRQ = STATUS_CMD + 9;
const WORDS = STATUS_CMD + 10;

// Bytes after the words: controller RAM (byte 0 is the command byte), then the output queue.
const RAM = 0;
const RAM_SIZE = 32;
const QUEUE = RAM + RAM_SIZE;
const QUEUE_SIZE = 16;
const QUEUE_FLAGS = QUEUE + QUEUE_SIZE; // I8042_STR_AUXDATA | I8042_STR_TIMEOUT per byte
const BYTES = QUEUE_FLAGS + QUEUE_SIZE;

const LAYOUT = { device: 'i8042', magic: 0x8042, words: WORDS, bytes: BYTES };
/** What a BIOS leaves: translation on, mouse port off, keyboard interrupt on. */
const CTR_AT_BOOT = I8042_CTR_XLATE | I8042_CTR_AUXDIS | I8042_CTR_SYSFLAG | I8042_CTR_KBDINT;
/** Output port: reset line high (not in reset), A20 enabled. */
const OUTPUT_PORT_AT_BOOT = 0x03;

const KBD_ACK = 0xfa;
const KBD_RESEND = 0xfe;
const KBD_BAT_OK = 0xaa;
const KBD_ECHO = 0xee;
const FROM_KBD = 0;

// Kinds of bad access, for logging once (0 is a bad size).
const BAD_PORT = 1;
const UNKNOWN_COMMAND = 2;
const OUTPUT_FULL = 3;

/**
 * The i8042 controller. Register the same object on both of its ports:
 * `new PioRange(I8042_DATA_PORT, 1)` and `new PioRange(I8042_COMMAND_PORT, 1)`
 * (port 0x61 between them belongs to the PIT's speaker gate).
 */
export class I8042Device extends SharedPortDevice {
  readonly #w: Int32Array;
  readonly #b: Uint8Array;
  readonly #onReset: ResetCallback;
  readonly #kbdIrq: EdgeInterrupt | undefined;
  readonly #auxIrq: EdgeInterrupt | undefined;
  // Effects decided under the lock and carried out after it.
  #reset = false;
  #raiseKbd = false;
  #raiseAux = false;

  /**
   * A controller in its post-BIOS state; or, given `shared`, this thread's
   * view of the controller another thread created (see {@link I8042Device.attach}).
   * @throws VmSuperioError `BAD_SHARED_STATE` if `shared` is not an i8042's state
   */
  constructor(options: I8042Options, shared?: SharedDeviceState) {
    assertFunction(options?.onReset, 'onReset');
    if (options.keyboardInterrupt !== undefined)
      assertEdgeInterrupt(options.keyboardInterrupt, 'keyboardInterrupt');
    if (options.auxInterrupt !== undefined) assertEdgeInterrupt(options.auxInterrupt, 'auxInterrupt');
    super(LAYOUT, options.log, shared);
    this.#w = this.state.words;
    this.#b = this.state.bytes;
    if (shared === undefined) {
      this.#b[RAM] = CTR_AT_BOOT;
      this.#w[OUTPUT_PORT] = OUTPUT_PORT_AT_BOOT;
      this.#w[SCANCODE_SET] = 2;
    }
    this.#onReset = options.onReset;
    this.#kbdIrq = options.keyboardInterrupt;
    this.#auxIrq = options.auxInterrupt;
  }

  /**
   * This thread's view of the controller whose {@link I8042Device.shared} it was given.
   * @throws VmSuperioError `BAD_SHARED_STATE`
   */
  static attach(shared: SharedDeviceState, options: I8042Options): I8042Device {
    return new I8042Device(options, shared);
  }

  /** The controller's counters (all threads together). */
  get metrics(): I8042Metrics {
    const s = this.state;
    return {
      resets: s.counter(M_RESETS),
      interrupts: s.counter(M_IRQ),
      invalidAccesses: s.invalidAccesses,
    };
  }

  /** A one-byte guest `in` from port 0x60 or 0x64. */
  protected readPort(base: PioAddress, offset: number): number {
    const port = base + offset;
    if (port === I8042_DATA_PORT) return this.readData();
    if (port === I8042_COMMAND_PORT) return this.readStatus();
    this.state.invalid(BAD_PORT, `read of port 0x${port.toString(16)}`);
    return 0xff;
  }

  /** A one-byte guest `out` to port 0x60 or 0x64. */
  protected writePort(base: PioAddress, offset: number, value: number): void {
    const port = base + offset;
    if (port === I8042_DATA_PORT) this.writeData(value);
    else if (port === I8042_COMMAND_PORT) this.writeCommand(value);
    else this.state.invalid(BAD_PORT, `write to port 0x${port.toString(16)}`);
  }

  /** Reads the status register (port 0x64). */
  readStatus(): number {
    const w = this.#w;
    this.state.lock.lock();
    let status = w[STATUS_CMD]! | I8042_STR_KEYLOCK | (this.#b[RAM]! & I8042_CTR_SYSFLAG);
    if (w[OUT_COUNT]! > 0) status |= I8042_STR_OBF | this.#b[QUEUE_FLAGS + w[OUT_HEAD]!]!;
    this.state.lock.unlock();
    return status;
  }

  /** Reads the output buffer (port 0x60); with nothing in it, the last byte read again. */
  readData(): number {
    const w = this.#w;
    const b = this.#b;
    let value: number;
    this.state.lock.lock();
    try {
      const count = w[OUT_COUNT]!;
      if (count === 0) value = w[LAST_DATA]!;
      else {
        const head = w[OUT_HEAD]!;
        value = b[QUEUE + head]!;
        w[LAST_DATA] = value;
        w[OUT_HEAD] = (head + 1) % QUEUE_SIZE;
        w[OUT_COUNT] = count - 1;
        // The next byte moves into the output buffer: it interrupts on its own.
        if (count > 1) this.#raiseFor(b[QUEUE_FLAGS + w[OUT_HEAD]!]!);
      }
    } finally {
      this.state.lock.unlock();
    }
    this.#afterUnlock();
    return value;
  }

  /** Writes a controller command (port 0x64). */
  writeCommand(command: number): void {
    command &= 0xff;
    const w = this.#w;
    const ram = this.#b;
    this.state.lock.lock();
    try {
      w[STATUS_CMD] = I8042_STR_CMDDAT;
      w[PENDING_CMD] = 0;
      if (command >= 0x20 && command < 0x40) this.#push(ram[RAM + command - 0x20]!, FROM_KBD);
      else if (command >= 0x60 && command < 0x80) w[PENDING_CMD] = command;
      else if (command >= 0xf0) {
        // Pulse output port bits 0..3 low for each 0 bit of the command; bit 0 is the reset line.
        if ((command & 1) === 0) this.#reset = true;
      } else {
        switch (command) {
          case 0xa7:
            ram[RAM] = ram[RAM]! | I8042_CTR_AUXDIS;
            break;
          case 0xa8:
            ram[RAM] = ram[RAM]! & ~I8042_CTR_AUXDIS;
            break;
          case 0xa9: // aux interface test: no clock or data line stuck
          case 0xab: // keyboard interface test
            this.#push(0x00, FROM_KBD);
            break;
          case 0xaa: // controller self test
            ram[RAM] = ram[RAM]! | I8042_CTR_SYSFLAG;
            this.#push(0x55, FROM_KBD);
            break;
          case 0xad:
            ram[RAM] = ram[RAM]! | I8042_CTR_KBDDIS;
            break;
          case 0xae:
            ram[RAM] = ram[RAM]! & ~I8042_CTR_KBDDIS;
            break;
          case 0xd0: // read output port
            this.#push(w[OUTPUT_PORT]!, FROM_KBD);
            break;
          case 0xd1: // write output port
          case 0xd2: // write keyboard output buffer
          case 0xd3: // write aux output buffer
          case 0xd4: // write to the aux device
            w[PENDING_CMD] = command;
            break;
          default:
            this.state.invalid(UNKNOWN_COMMAND, `controller command 0x${command.toString(16)}`);
        }
      }
    } finally {
      this.state.lock.unlock();
    }
    this.#afterUnlock();
  }

  /** Writes the data port (port 0x60): a pending command's data byte, or a byte for the keyboard. */
  writeData(value: number): void {
    value &= 0xff;
    const w = this.#w;
    this.state.lock.lock();
    try {
      w[STATUS_CMD] = 0;
      const pending = w[PENDING_CMD]!;
      w[PENDING_CMD] = 0;
      if (pending >= 0x60 && pending < 0x80) this.#b[RAM + pending - 0x60] = value;
      else if (pending === 0xd1) {
        w[OUTPUT_PORT] = value;
        if ((value & 1) === 0) this.#reset = true;
      } else if (pending === 0xd2) this.#push(value, FROM_KBD);
      else if (pending === 0xd3) this.#push(value, I8042_STR_AUXDATA);
      else if (pending === 0xd4) this.#push(KBD_RESEND, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
      else this.#keyboard(value);
    } finally {
      this.state.lock.unlock();
    }
    this.#afterUnlock();
  }

  /** The PS/2 keyboard receiving `byte`. */
  #keyboard(byte: number): void {
    const w = this.#w;
    const pending = w[KBD_PENDING]!;
    w[KBD_PENDING] = 0;
    if (pending !== 0) {
      // The parameter of LEDs (0xed), typematic (0xf3) or scan code set (0xf0).
      this.#push(KBD_ACK, FROM_KBD);
      if (pending === 0xf0) {
        if (byte === 0) this.#push(w[SCANCODE_SET]!, FROM_KBD);
        else if (byte <= 3) w[SCANCODE_SET] = byte;
      }
      return;
    }
    switch (byte) {
      case 0xed:
      case 0xf0:
      case 0xf3:
        w[KBD_PENDING] = byte;
        this.#push(KBD_ACK, FROM_KBD);
        break;
      case 0xee:
        this.#push(KBD_ECHO, FROM_KBD);
        break;
      case 0xf2: // identify: an MF2 keyboard
        this.#push(KBD_ACK, FROM_KBD);
        this.#push(0xab, FROM_KBD);
        this.#push(0x83, FROM_KBD);
        break;
      case 0xff: // reset and self test
        w[SCANCODE_SET] = 2;
        this.#push(KBD_ACK, FROM_KBD);
        this.#push(KBD_BAT_OK, FROM_KBD);
        break;
      default:
        // Enable/disable scanning, defaults, key types, resend: acknowledged.
        if (byte >= 0xf4) this.#push(KBD_ACK, FROM_KBD);
        else this.#push(KBD_RESEND, FROM_KBD);
    }
  }

  /** Appends a byte to the output queue; `flags` are its status bits (aux, timeout). */
  #push(byte: number, flags: number): void {
    const w = this.#w;
    const count = w[OUT_COUNT]!;
    if (count >= QUEUE_SIZE) {
      this.state.invalid(OUTPUT_FULL, 'flood of commands: output buffer full, byte dropped');
      return;
    }
    const at = (w[OUT_HEAD]! + count) % QUEUE_SIZE;
    this.#b[QUEUE + at] = byte;
    this.#b[QUEUE_FLAGS + at] = flags;
    w[OUT_COUNT] = count + 1;
    if (count === 0) this.#raiseFor(flags);
  }

  /** Notes that a byte with `flags` reached the output buffer. */
  #raiseFor(flags: number): void {
    const ctr = this.#b[RAM]!;
    if (flags & I8042_STR_AUXDATA) {
      if (ctr & I8042_CTR_AUXINT) this.#raiseAux = true;
    } else if (ctr & I8042_CTR_KBDINT) this.#raiseKbd = true;
  }

  #afterUnlock(): void {
    if (this.#raiseKbd) {
      this.#raiseKbd = false;
      if (this.#kbdIrq !== undefined) {
        this.state.count(M_IRQ);
        this.#kbdIrq.trigger();
      }
    }
    if (this.#raiseAux) {
      this.#raiseAux = false;
      if (this.#auxIrq !== undefined) {
        this.state.count(M_IRQ);
        this.#auxIrq.trigger();
      }
    }
    if (this.#reset) {
      this.#reset = false;
      this.state.count(M_RESETS);
      this.#onReset();
    }
  }
}
