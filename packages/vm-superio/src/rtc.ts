/**
 * A CMOS real-time clock (Motorola MC146818, ports 0x70/0x71) showing the
 * host's date and time in UTC.
 *
 * Port 0x70 selects a register (bit 7 is the NMI mask, kept and ignored),
 * port 0x71 reads or writes it. Registers 0x00..0x09 are the clock and the
 * alarms, in BCD or binary and in 24- or 12-hour form as register B says;
 * register A's update-in-progress bit is set from 244 µs before each
 * second's update until the update (1984 µs) ends, which is what Linux waits
 * on before it reads the time; register C reports update-ended and periodic
 * flags since it was last read; register D says the time is valid. The rest
 * is 114 bytes of battery-backed RAM, with the century at 0x32 as on PCs.
 *
 * Setting the time (directly, or between setting and clearing register B's
 * SET bit) shifts this RTC's offset from the host clock; the host clock is
 * never touched. No interrupt (IRQ 8) is raised: alarms are stored but do
 * not fire.
 */
import type { PioAddress } from '@tsvmm/vm-device';
import {
  assertFunction,
  type DeviceLog,
  FIRST_DEVICE_WORD,
  type SharedDeviceState,
  SharedPortDevice,
} from './shared-state.js';

/** The index port. */
export const RTC_PORT_INDEX = 0x70;
/** The data port. */
export const RTC_PORT_DATA = 0x71;
/** Ports the RTC decodes, from {@link RTC_PORT_INDEX}. */
export const RTC_PORT_SIZE = 2;

/** Register indices, as in <linux/mc146818rtc.h>. */
export const RTC_SECONDS = 0x00;
/** Seconds alarm. */
export const RTC_SECONDS_ALARM = 0x01;
/** Minutes. */
export const RTC_MINUTES = 0x02;
/** Minutes alarm. */
export const RTC_MINUTES_ALARM = 0x03;
/** Hours (bit 7 = PM in 12-hour mode). */
export const RTC_HOURS = 0x04;
/** Hours alarm. */
export const RTC_HOURS_ALARM = 0x05;
/** Day of the week, 1 = Sunday. */
export const RTC_DAY_OF_WEEK = 0x06;
/** Day of the month. */
export const RTC_DAY_OF_MONTH = 0x07;
/** Month, 1..12. */
export const RTC_MONTH = 0x08;
/** Year in the century, 0..99. */
export const RTC_YEAR = 0x09;
/** Register A: update in progress, divider, rate. */
export const RTC_REG_A = 0x0a;
/** Register B: SET, interrupt enables, data mode, 24h, DST. */
export const RTC_REG_B = 0x0b;
/** Register C: interrupt flags (read-only, cleared by reading). */
export const RTC_REG_C = 0x0c;
/** Register D: valid RAM and time (read-only). */
export const RTC_REG_D = 0x0d;
/** The century byte PCs keep in CMOS RAM. */
export const RTC_CENTURY = 0x32;

/** A: update in progress. */
export const RTC_UIP = 0x80;
/** A: divider bits; 010 is the normal 32.768 kHz time base. */
export const RTC_DIV_CTL = 0x70;
/** A: the 32.768 kHz time base. */
export const RTC_REF_CLCK_32KHZ = 0x20;
/** A: rate select bits of the periodic flag. */
export const RTC_RATE_SELECT = 0x0f;
/** B: halt updates while the time is being set. */
export const RTC_SET = 0x80;
/** B: periodic interrupt enable. */
export const RTC_PIE = 0x40;
/** B: alarm interrupt enable. */
export const RTC_AIE = 0x20;
/** B: update-ended interrupt enable. */
export const RTC_UIE = 0x10;
/** B: binary (not BCD) data mode. */
export const RTC_DM_BINARY = 0x04;
/** B: 24-hour mode. */
export const RTC_24H = 0x02;
/** C: some enabled flag is set. */
export const RTC_IRQF = 0x80;
/** C: periodic flag. */
export const RTC_PF = 0x40;
/** C: alarm flag. */
export const RTC_AF = 0x20;
/** C: update-ended flag. */
export const RTC_UF = 0x10;
/** D: valid RAM and time. */
export const RTC_VRT = 0x80;

/** How an `Rtc` object reaches the world on its thread. */
export interface RtcOptions {
  /** The host clock in milliseconds since the epoch, sub-millisecond if possible. */
  readonly now?: () => number;
  /** Receives one warning per kind of bad guest access; default `console.warn`. */
  readonly log?: DeviceLog;
}

/** Counters of one RTC, shared by all its objects. */
export interface RtcMetrics {
  /** Bad sizes, bad ports and writes to read-only registers. */
  readonly invalidAccesses: number;
}

// Shared words after the common header (an even count keeps the doubles after them 8-aligned).
const INDEX = FIRST_DEVICE_WORD;
const NMI_MASK = INDEX + 1;
const WORDS = INDEX + 2;
// Bytes: two doubles (offset from the host clock, time of the last register C read), then RAM.
const OFFSET_MS = 0;
const LAST_C_READ = 1;
const RAM = 16;
const RAM_SIZE = 128;
const BYTES = RAM + RAM_SIZE;

const LAYOUT = { device: 'rtc', magic: 0x146818, words: WORDS, bytes: BYTES };
/** UIP rises this long before each second's update ... */
const UIP_LEAD_MS = 0.244;
/** ... and falls when the update, this long, ends. */
const UPDATE_MS = 1.984;

// Kinds of bad access, for logging once (0 is a bad size).
const READ_ONLY = 1;
const BAD_PORT = 2;

const defaultNow = (): number => performance.timeOrigin + performance.now();

/**
 * The RTC. Register it at {@link RTC_PORT_INDEX} with {@link RTC_PORT_SIZE} ports.
 */
export class Rtc extends SharedPortDevice {
  readonly #w: Int32Array;
  readonly #ram: Uint8Array;
  readonly #times: Float64Array;
  readonly #now: () => number;

  /**
   * An RTC showing the host's time, with register A = 0x26 (32.768 kHz,
   * 1024 Hz) and B = 0x02 (24-hour BCD); or, given `shared`, this thread's
   * view of the RTC another thread created (see {@link Rtc.attach}).
   * @throws VmSuperioError `BAD_SHARED_STATE` if `shared` is not an RTC's state
   */
  constructor(options: RtcOptions = {}, shared?: SharedDeviceState) {
    if (options?.now !== undefined) assertFunction(options.now, 'now');
    super(LAYOUT, options?.log, shared);
    this.#w = this.state.words;
    this.#times = new Float64Array(this.state.bytes.buffer, this.state.bytes.byteOffset + OFFSET_MS, 2);
    this.#ram = this.state.bytes.subarray(RAM, RAM + RAM_SIZE);
    this.#now = options?.now ?? defaultNow;
    if (shared === undefined) {
      const ram = this.#ram;
      ram[RTC_REG_A] = RTC_REF_CLCK_32KHZ | 0x06;
      ram[RTC_REG_B] = RTC_24H;
      ram[RTC_CENTURY] = 0x20; // rewritten from the clock on each read
      this.#times[LAST_C_READ] = this.#now();
    }
  }

  /**
   * This thread's view of the RTC whose {@link Rtc.shared} it was given.
   * @throws VmSuperioError `BAD_SHARED_STATE`
   */
  static attach(shared: SharedDeviceState, options: RtcOptions = {}): Rtc {
    return new Rtc(options, shared);
  }

  /** The RTC's counters (all threads together). */
  get metrics(): RtcMetrics {
    return { invalidAccesses: this.state.invalidAccesses };
  }

  /** The time the RTC shows, in milliseconds since the epoch (UTC). */
  time(): number {
    return this.#now() + this.#times[OFFSET_MS]!;
  }

  /** A one-byte guest `in` from port 0x70 (the index, as last written) or 0x71. */
  protected readPort(base: PioAddress, offset: number): number {
    const port = base + offset;
    if (port === RTC_PORT_DATA) return this.read(this.#index());
    if (port === RTC_PORT_INDEX) return this.#index() | (Atomics.load(this.#w, NMI_MASK) << 7);
    this.state.invalid(BAD_PORT, `read of port 0x${port.toString(16)}`);
    return 0xff;
  }

  /** A one-byte guest `out` to port 0x70 (select a register, bit 7 masks NMIs) or 0x71. */
  protected writePort(base: PioAddress, offset: number, value: number): void {
    const port = base + offset;
    if (port === RTC_PORT_DATA) this.write(this.#index(), value);
    else if (port === RTC_PORT_INDEX) {
      Atomics.store(this.#w, INDEX, value & 0x7f);
      Atomics.store(this.#w, NMI_MASK, value >> 7);
    } else this.state.invalid(BAD_PORT, `write to port 0x${port.toString(16)}`);
  }

  /** Reads register `index` (0..127) as the guest would. */
  read(index: number): number {
    index &= 0x7f;
    const ram = this.#ram;
    this.state.lock.lock();
    try {
      const now = this.#now();
      if (index <= RTC_YEAR || index === RTC_CENTURY) {
        if ((ram[RTC_REG_B]! & RTC_SET) === 0 && this.#running())
          this.#showTime(now + this.#times[OFFSET_MS]!);
        return ram[index]!;
      }
      switch (index) {
        case RTC_REG_A:
          return (ram[RTC_REG_A]! & ~RTC_UIP) | (this.#updating(now) ? RTC_UIP : 0);
        case RTC_REG_C:
          return this.#readFlags(now);
        case RTC_REG_D:
          return RTC_VRT;
        default:
          return ram[index]!;
      }
    } finally {
      this.state.lock.unlock();
    }
  }

  /** Writes `value` to register `index` (0..127) as the guest would. */
  write(index: number, value: number): void {
    index &= 0x7f;
    value &= 0xff;
    const ram = this.#ram;
    this.state.lock.lock();
    try {
      const now = this.#now();
      const setting = (ram[RTC_REG_B]! & RTC_SET) !== 0;
      if (index <= RTC_YEAR || index === RTC_CENTURY) {
        const isAlarm =
          index === RTC_SECONDS_ALARM || index === RTC_MINUTES_ALARM || index === RTC_HOURS_ALARM;
        if (isAlarm || setting) ram[index] = value;
        else {
          // Setting one field of a running clock: show the time, change the field, take it as the new time.
          this.#showTime(now + this.#times[OFFSET_MS]!);
          ram[index] = value;
          this.#takeTime(now);
        }
        return;
      }
      switch (index) {
        case RTC_REG_A:
          ram[RTC_REG_A] = value & ~RTC_UIP;
          break;
        case RTC_REG_B:
          if (!setting && value & RTC_SET) this.#showTime(now + this.#times[OFFSET_MS]!);
          else if (setting && !(value & RTC_SET)) this.#takeTime(now);
          ram[RTC_REG_B] = value & RTC_SET ? value & ~RTC_UIE : value;
          break;
        case RTC_REG_C:
        case RTC_REG_D:
          this.state.invalid(
            READ_ONLY,
            `write of 0x${value.toString(16)} to read-only register 0x${index.toString(16)}`,
          );
          break;
        default:
          ram[index] = value;
      }
    } finally {
      this.state.lock.unlock();
    }
  }

  #index(): number {
    return Atomics.load(this.#w, INDEX);
  }

  /** Whether the divider runs the clock (A's divider bits are 010) and SET is clear. */
  #running(): boolean {
    return (this.#ram[RTC_REG_A]! & RTC_DIV_CTL) === RTC_REF_CLCK_32KHZ;
  }

  /** Whether `now` (host time) falls in an update cycle as the guest's clock sees it. */
  #updating(now: number): boolean {
    if (!this.#running() || this.#ram[RTC_REG_B]! & RTC_SET) return false;
    const ms = (((now + this.#times[OFFSET_MS]!) % 1000) + 1000) % 1000;
    return ms >= 1000 - UIP_LEAD_MS || ms < UPDATE_MS;
  }

  /** Register C: the flags raised since it was last read; reading clears them. */
  #readFlags(now: number): number {
    const last = this.#times[LAST_C_READ]!;
    this.#times[LAST_C_READ] = now;
    if (!this.#running()) return 0;
    const offset = this.#times[OFFSET_MS]!;
    let flags = 0;
    if (
      !(this.#ram[RTC_REG_B]! & RTC_SET) &&
      Math.floor((now + offset) / 1000) > Math.floor((last + offset) / 1000)
    )
      flags |= RTC_UF;
    const rate = this.#ram[RTC_REG_A]! & RTC_RATE_SELECT;
    if (rate !== 0) {
      // Rates 1 and 2 are 256 and 128 Hz; 3..15 are 8192 Hz >> (rate - 3).
      const periodMs = 1000 / (rate <= 2 ? 512 >> rate : 65536 >> rate);
      if (Math.floor(now / periodMs) > Math.floor(last / periodMs)) flags |= RTC_PF;
    }
    const b = this.#ram[RTC_REG_B]!;
    if ((flags & RTC_UF && b & RTC_UIE) || (flags & RTC_PF && b & RTC_PIE)) flags |= RTC_IRQF;
    return flags;
  }

  /** Writes the date and time at `ms` into registers 0, 2, 4, 6..9 and the century byte. */
  #showTime(ms: number): void {
    const ram = this.#ram;
    const d = new Date(ms);
    const b = ram[RTC_REG_B]!;
    const enc = b & RTC_DM_BINARY ? (v: number) => v : toBcd;
    const hours = d.getUTCHours();
    ram[RTC_SECONDS] = enc(d.getUTCSeconds());
    ram[RTC_MINUTES] = enc(d.getUTCMinutes());
    ram[RTC_HOURS] = b & RTC_24H ? enc(hours) : enc(hours % 12 || 12) | (hours >= 12 ? 0x80 : 0);
    ram[RTC_DAY_OF_WEEK] = enc(d.getUTCDay() + 1);
    ram[RTC_DAY_OF_MONTH] = enc(d.getUTCDate());
    ram[RTC_MONTH] = enc(d.getUTCMonth() + 1);
    ram[RTC_YEAR] = enc(d.getUTCFullYear() % 100);
    ram[RTC_CENTURY] = enc(Math.floor(d.getUTCFullYear() / 100) % 100);
  }

  /** Takes the date and time in the registers as the RTC's time from host time `now` on. */
  #takeTime(now: number): void {
    const ram = this.#ram;
    const b = ram[RTC_REG_B]!;
    const dec = b & RTC_DM_BINARY ? (v: number) => v : fromBcd;
    const rawHours = ram[RTC_HOURS]!;
    let hours = dec(rawHours & 0x7f);
    if (!(b & RTC_24H)) hours = (hours % 12) + (rawHours & 0x80 ? 12 : 0);
    const year = dec(ram[RTC_CENTURY]!) * 100 + dec(ram[RTC_YEAR]!);
    const date = new Date(0);
    // setUTCFullYear, unlike Date.UTC, does not read years 0..99 as 1900..1999. Out-of-range
    // fields (a guest may write any byte) roll over into the next ones, as Date does.
    date.setUTCFullYear(year, dec(ram[RTC_MONTH]!) - 1, dec(ram[RTC_DAY_OF_MONTH]!));
    date.setUTCHours(hours, dec(ram[RTC_MINUTES]!), dec(ram[RTC_SECONDS]!));
    this.#times[OFFSET_MS] = date.getTime() - now;
  }
}

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}
