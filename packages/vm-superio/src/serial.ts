/**
 * A 16550A UART, the PC's COM port (COM1: ports 0x3f8..0x3ff, IRQ 4).
 *
 * What the guest sees follows the National Semiconductor PC16550D datasheet
 * as far as Linux's 8250 driver relies on it: a 16-byte receive FIFO with
 * trigger levels, the IIR priorities (line status > received data or
 * character timeout > THR empty > modem status), THRE/TEMT/DR in the LSR,
 * the divisor latch behind DLAB, the scratch register, and loopback (MCR bit
 * 4) routing transmitted bytes to the receiver and the modem outputs to the
 * modem status inputs. Transmission is instantaneous: every byte written to
 * THR goes to the output sink at once, so THR and the transmitter are always
 * empty. Data below the trigger level is reported at once as a character
 * timeout (real hardware waits four character times).
 *
 * The interrupt is the UART's INTR output: it is raised (one
 * `EdgeInterrupt.trigger()`) each time some enabled interrupt becomes
 * pending while none was, which is what an ISA edge-triggered IRQ sees.
 *
 * The registers and the FIFO live in a SharedArrayBuffer guarded by a
 * `SharedLock`: each thread that touches the UART (every vCPU worker, the
 * main thread feeding stdin) has its own `Serial` over the same state, made
 * with `new Serial()` once and `Serial.attach(serial.shared, ...)` elsewhere.
 */
import type { DeviceMmio, EdgeInterrupt, MmioAddress, PioAddress } from '@tsvmm/vm-device';
import {
  UART_FCR_CLEAR_RCVR,
  UART_FCR_ENABLE_FIFO,
  UART_IER_MSI,
  UART_IER_RDI,
  UART_IER_RLSI,
  UART_IER_THRI,
  UART_IIR_FIFO_ENABLED,
  UART_IIR_MSI,
  UART_IIR_NO_INT,
  UART_IIR_RDI,
  UART_IIR_RLSI,
  UART_IIR_RX_TIMEOUT,
  UART_IIR_THRI,
  UART_LCR_DLAB,
  UART_LSR_BRK_ERROR_BITS,
  UART_LSR_DR,
  UART_LSR_OE,
  UART_LSR_TEMT,
  UART_LSR_THRE,
  UART_MCR_DTR,
  UART_MCR_LOOP,
  UART_MCR_OUT1,
  UART_MCR_OUT2,
  UART_MCR_RTS,
  UART_MSR_ANY_DELTA,
  UART_MSR_CTS,
  UART_MSR_DCD,
  UART_MSR_DCTS,
  UART_MSR_DDCD,
  UART_MSR_DDSR,
  UART_MSR_DSR,
  UART_MSR_RI,
  UART_MSR_TERI,
} from './serial-registers.js';
import {
  assertEdgeInterrupt,
  assertFunction,
  type DeviceLog,
  FIRST_DEVICE_WORD,
  type SharedDeviceState,
  SharedPortDevice,
} from './shared-state.js';

/** COM1's base port. */
export const SERIAL_PORT_COM1 = 0x3f8;
/** COM1's IRQ. */
export const SERIAL_IRQ_COM1 = 4;
/** Ports a 16550A decodes. */
export const SERIAL_PORT_SIZE = 8;
/** Bytes the 16550A's receive FIFO holds. */
export const SERIAL_FIFO_SIZE = 16;

/** Receives each byte the guest transmits (not in loopback mode). */
export type SerialOutput = (byte: number) => void;

/** How a `Serial` object reaches the world on its thread. */
export interface SerialOptions {
  /** Where transmitted bytes go. Called outside the device lock, on the thread that wrote THR. */
  readonly output: SerialOutput;
  /** The UART's interrupt (IRQ 4 for COM1), usually an irqfd. */
  readonly interrupt: EdgeInterrupt;
  /** Receives one warning per kind of bad guest access; default `console.warn`. */
  readonly log?: DeviceLog;
}

/** Counters of one UART, shared by all its `Serial` objects. */
export interface SerialMetrics {
  /** Bytes the guest transmitted to the output sink. */
  readonly txBytes: number;
  /** Bytes the VMM enqueued as input. */
  readonly rxBytes: number;
  /** Bytes lost because the receive FIFO was full (loopback only). */
  readonly overruns: number;
  /** Guest accesses of a bad size, at a bad offset, or to a read-only register. */
  readonly invalidAccesses: number;
  /** Interrupts raised. */
  readonly interrupts: number;
}

// Shared words after the common header.
const IER = FIRST_DEVICE_WORD;
const LCR = IER + 1;
const MCR = IER + 2;
const LSR_ERR = IER + 3; // the sticky error bits of the LSR
const MSR = IER + 4; // lines and deltas
const SCR = IER + 5;
const DLL = IER + 6;
const DLM = IER + 7;
const FCR = IER + 8; // enable, DMA and trigger bits as last programmed
const THRI_PENDING = IER + 9;
const RX_HEAD = IER + 10;
const RX_COUNT = IER + 11;
const INTR = IER + 12; // level of the INTR output
const SPACE_WAITER = IER + 13; // 1 while a thread awaits whenInputSpace()
const SPACE_SEQ = IER + 14;
const M_TX = IER + 15;
const M_RX = IER + 16;
const M_OVERRUN = IER + 17;
const M_IRQ = IER + 18;
const LAYOUT = { device: 'serial', magic: 0x16550a, words: IER + 19, bytes: SERIAL_FIFO_SIZE };
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** Modem inputs of a connected terminal when not in loopback: carrier, DSR and CTS up. */
const MSR_CONNECTED = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;

// Kinds of bad access, for logging once (0 is a bad size).
const BAD_OFFSET = 1;
const READ_ONLY = 2;

/**
 * A 16550A UART. Register it on the port bus at {@link SERIAL_PORT_COM1}
 * with {@link SERIAL_PORT_SIZE} ports (or on an MMIO bus, one byte per
 * register); feed it input with {@link Serial.enqueueInput}.
 */
export class Serial extends SharedPortDevice implements DeviceMmio {
  readonly #w: Int32Array;
  readonly #fifo: Uint8Array;
  readonly #output: SerialOutput;
  readonly #interrupt: EdgeInterrupt;
  // Effects decided under the lock and carried out after it.
  #txByte = -1;
  #raise = false;
  #spaceFreed = false;

  /**
   * A UART in its power-on state; or, given `shared`, this thread's view of
   * the UART another thread created (see {@link Serial.attach}).
   * @throws VmSuperioError `BAD_SHARED_STATE` if `shared` is not a UART's state
   */
  constructor(options: SerialOptions, shared?: SharedDeviceState) {
    assertFunction(options?.output, 'output');
    assertEdgeInterrupt(options.interrupt, 'interrupt');
    super(LAYOUT, options.log, shared);
    this.#w = this.state.words;
    this.#fifo = this.state.bytes;
    if (shared === undefined) {
      this.#w[DLL] = 0x0c; // 9600 baud
      this.#w[MSR] = MSR_CONNECTED;
    }
    this.#output = options.output;
    this.#interrupt = options.interrupt;
  }

  /**
   * This thread's view of the UART whose {@link Serial.shared} it was given:
   * same registers and FIFO, its own output sink and interrupt.
   * @throws VmSuperioError `BAD_SHARED_STATE`
   */
  static attach(shared: SharedDeviceState, options: SerialOptions): Serial {
    return new Serial(options, shared);
  }

  /** The UART's counters (all threads together). */
  get metrics(): SerialMetrics {
    const s = this.state;
    return {
      txBytes: s.counter(M_TX),
      rxBytes: s.counter(M_RX),
      overruns: s.counter(M_OVERRUN),
      invalidAccesses: s.invalidAccesses,
      interrupts: s.counter(M_IRQ),
    };
  }

  /** A one-byte guest `in` from register `offset`. */
  protected readPort(_base: PioAddress, offset: number): number {
    return this.read(offset);
  }

  /** A one-byte guest `out` to register `offset`. */
  protected writePort(_base: PioAddress, offset: number, value: number): void {
    this.write(offset, value);
  }

  /** A guest load from an MMIO-mapped UART (registers one byte apart). */
  mmioRead(_base: MmioAddress, offset: number, data: Uint8Array): void {
    this.pioRead(0, offset, data);
  }

  /** A guest store to an MMIO-mapped UART. */
  mmioWrite(_base: MmioAddress, offset: number, data: Uint8Array): void {
    this.pioWrite(0, offset, data);
  }

  /** Reads register `offset` (0..7) as the guest would, with its side effects. */
  read(offset: number): number {
    const w = this.#w;
    let value: number;
    this.state.lock.lock();
    try {
      const dlab = (w[LCR]! & UART_LCR_DLAB) !== 0;
      switch (offset) {
        case 0:
          value = dlab ? w[DLL]! : this.#popRx();
          break;
        case 1:
          value = dlab ? w[DLM]! : w[IER]!;
          break;
        case 2: {
          const id = this.#pendingId();
          // Reading IIR acknowledges a THR-empty interrupt when that is what it reports.
          if (id === UART_IIR_THRI) w[THRI_PENDING] = 0;
          value = id | (this.#fifoEnabled() ? UART_IIR_FIFO_ENABLED : 0);
          break;
        }
        case 3:
          value = w[LCR]!;
          break;
        case 4:
          value = w[MCR]!;
          break;
        case 5:
          value = (w[RX_COUNT]! > 0 ? UART_LSR_DR : 0) | w[LSR_ERR]! | UART_LSR_THRE | UART_LSR_TEMT;
          w[LSR_ERR] = 0;
          break;
        case 6:
          value = w[MSR]!;
          w[MSR] = value & ~UART_MSR_ANY_DELTA;
          break;
        case 7:
          value = w[SCR]!;
          break;
        default:
          value = 0xff;
          this.state.invalid(BAD_OFFSET, `read at offset ${offset}`);
      }
      this.#updateIntr();
    } finally {
      this.state.lock.unlock();
    }
    this.#afterUnlock();
    return value;
  }

  /** Writes `value` (a byte) to register `offset` (0..7) as the guest would. */
  write(offset: number, value: number): void {
    const w = this.#w;
    value &= 0xff;
    this.state.lock.lock();
    try {
      const dlab = (w[LCR]! & UART_LCR_DLAB) !== 0;
      switch (offset) {
        case 0:
          if (dlab) w[DLL] = value;
          else this.#transmit(value);
          break;
        case 1:
          if (dlab) w[DLM] = value;
          else this.#writeIer(value);
          break;
        case 2:
          this.#writeFcr(value);
          break;
        case 3:
          w[LCR] = value;
          break;
        case 4:
          this.#writeMcr(value);
          break;
        case 5:
        case 6:
          this.state.invalid(
            READ_ONLY,
            `write of 0x${value.toString(16)} to read-only ${offset === 5 ? 'LSR' : 'MSR'}`,
          );
          break;
        case 7:
          w[SCR] = value;
          break;
        default:
          this.state.invalid(BAD_OFFSET, `write at offset ${offset}`);
      }
      this.#updateIntr();
    } finally {
      this.state.lock.unlock();
    }
    this.#afterUnlock();
  }

  /**
   * Puts bytes from the outside world (stdin) into the receive FIFO and
   * returns how many fit: at most the free space of the FIFO (16 bytes, 1
   * with the FIFO disabled), and none in loopback mode, where the receiver
   * is disconnected from the outside. Enqueue the rest later, after
   * {@link Serial.whenInputSpace}.
   */
  enqueueInput(bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    const w = this.#w;
    let n = 0;
    this.state.lock.lock();
    try {
      if ((w[MCR]! & UART_MCR_LOOP) === 0) {
        n = Math.min(bytes.length, this.#capacity() - w[RX_COUNT]!);
        for (let i = 0; i < n; i++) this.#pushRx(bytes[i]!);
        this.#updateIntr();
      }
    } finally {
      this.state.lock.unlock();
    }
    if (n > 0) this.state.count(M_RX, n);
    this.#afterUnlock();
    return n;
  }

  /** How many bytes {@link Serial.enqueueInput} would accept now. */
  inputSpace(): number {
    const w = this.#w;
    this.state.lock.lock();
    const space = (w[MCR]! & UART_MCR_LOOP) !== 0 ? 0 : this.#capacity() - w[RX_COUNT]!;
    this.state.lock.unlock();
    return space;
  }

  /**
   * Resolves once the receive FIFO has room for input (at once if it has):
   * when the guest reads a byte, clears the FIFO or leaves loopback mode, on
   * whichever thread that happens. Does not block the event loop.
   */
  async whenInputSpace(): Promise<void> {
    const w = this.#w;
    for (;;) {
      this.state.lock.lock();
      const full = (w[MCR]! & UART_MCR_LOOP) !== 0 || w[RX_COUNT]! >= this.#capacity();
      const seq = w[SPACE_SEQ]!;
      if (full) w[SPACE_WAITER] = 1;
      this.state.lock.unlock();
      if (!full) return;
      const wait = Atomics.waitAsync(w, SPACE_SEQ, seq);
      if (wait.async) await wait.value;
    }
  }

  #transmit(byte: number): void {
    const w = this.#w;
    if ((w[MCR]! & UART_MCR_LOOP) !== 0) this.#pushRx(byte);
    else this.#txByte = byte;
    // Transmission is instantaneous: THR is empty again at once.
    w[THRI_PENDING] = 1;
  }

  #writeIer(value: number): void {
    const w = this.#w;
    const old = w[IER]!;
    w[IER] = value & 0x0f; // bits 4..7 are always 0 on a 16550A
    // Enabling the THR-empty interrupt while THR is empty (always, here) raises it.
    if ((value & UART_IER_THRI) === 0) w[THRI_PENDING] = 0;
    else if ((old & UART_IER_THRI) === 0) w[THRI_PENDING] = 1;
  }

  #writeFcr(value: number): void {
    const w = this.#w;
    const wasEnabled = this.#fifoEnabled();
    // The other FCR bits are programmed only together with FIFO enable.
    w[FCR] = value & UART_FCR_ENABLE_FIFO ? value & 0xc9 : 0;
    if (wasEnabled !== this.#fifoEnabled() || (value & UART_FCR_CLEAR_RCVR) !== 0) this.#clearRx();
    // Clearing the transmit FIFO changes nothing: it is always empty.
  }

  #writeMcr(value: number): void {
    const w = this.#w;
    const wasLoop = (w[MCR]! & UART_MCR_LOOP) !== 0;
    w[MCR] = value & 0x1f; // bits 5..7 are always 0
    const loop = (value & UART_MCR_LOOP) !== 0;
    const lines = loop
      ? (value & UART_MCR_RTS ? UART_MSR_CTS : 0) |
        (value & UART_MCR_DTR ? UART_MSR_DSR : 0) |
        (value & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
        (value & UART_MCR_OUT2 ? UART_MSR_DCD : 0)
      : MSR_CONNECTED;
    const old = w[MSR]!;
    const changed = (old ^ lines) & 0xf0;
    let deltas = old & UART_MSR_ANY_DELTA;
    if (changed & UART_MSR_CTS) deltas |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR) deltas |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD) deltas |= UART_MSR_DDCD;
    if (old & UART_MSR_RI && !(lines & UART_MSR_RI)) deltas |= UART_MSR_TERI;
    w[MSR] = lines | deltas;
    if (wasLoop && !loop) this.#spaceFreed = true;
  }

  /** The id of the highest-priority enabled pending interrupt, or UART_IIR_NO_INT. */
  #pendingId(): number {
    const w = this.#w;
    const ier = w[IER]!;
    if (ier & UART_IER_RLSI && w[LSR_ERR]! & UART_LSR_BRK_ERROR_BITS) return UART_IIR_RLSI;
    const count = w[RX_COUNT]!;
    if (ier & UART_IER_RDI && count > 0)
      return count >= this.#triggerLevel() ? UART_IIR_RDI : UART_IIR_RX_TIMEOUT;
    if (ier & UART_IER_THRI && w[THRI_PENDING]) return UART_IIR_THRI;
    if (ier & UART_IER_MSI && w[MSR]! & UART_MSR_ANY_DELTA) return UART_IIR_MSI;
    return UART_IIR_NO_INT;
  }

  /** Recomputes INTR; remembers to trigger the interrupt if it rose. */
  #updateIntr(): void {
    const level = this.#pendingId() === UART_IIR_NO_INT ? 0 : 1;
    if (level === 1 && this.#w[INTR] === 0) this.#raise = true;
    this.#w[INTR] = level;
  }

  #fifoEnabled(): boolean {
    return (this.#w[FCR]! & UART_FCR_ENABLE_FIFO) !== 0;
  }

  #capacity(): number {
    return this.#fifoEnabled() ? SERIAL_FIFO_SIZE : 1;
  }

  #triggerLevel(): number {
    return this.#fifoEnabled() ? TRIGGER_LEVELS[this.#w[FCR]! >> 6]! : 1;
  }

  #pushRx(byte: number): void {
    const w = this.#w;
    const count = w[RX_COUNT]!;
    if (count >= this.#capacity()) {
      // Only loopback can overrun: enqueueInput never takes more than fits.
      w[LSR_ERR] = w[LSR_ERR]! | UART_LSR_OE;
      this.state.count(M_OVERRUN);
      return;
    }
    this.#fifo[(w[RX_HEAD]! + count) % SERIAL_FIFO_SIZE] = byte;
    w[RX_COUNT] = count + 1;
  }

  #popRx(): number {
    const w = this.#w;
    const count = w[RX_COUNT]!;
    if (count === 0) return 0;
    const head = w[RX_HEAD]!;
    w[RX_HEAD] = (head + 1) % SERIAL_FIFO_SIZE;
    w[RX_COUNT] = count - 1;
    this.#spaceFreed = true;
    return this.#fifo[head]!;
  }

  #clearRx(): void {
    this.#w[RX_HEAD] = 0;
    this.#w[RX_COUNT] = 0;
    this.#spaceFreed = true;
  }

  /** Runs the effects decided under the lock: output, interrupt, input-space wakeup. */
  #afterUnlock(): void {
    const w = this.#w;
    if (this.#spaceFreed) {
      this.#spaceFreed = false;
      if (Atomics.exchange(w, SPACE_WAITER, 0) === 1) {
        Atomics.add(w, SPACE_SEQ, 1);
        Atomics.notify(w, SPACE_SEQ);
      }
    }
    if (this.#txByte >= 0) {
      const byte = this.#txByte;
      this.#txByte = -1;
      this.state.count(M_TX);
      this.#output(byte);
    }
    if (this.#raise) {
      this.#raise = false;
      this.state.count(M_IRQ);
      this.#interrupt.trigger();
    }
  }
}
