import { IoManager, PioRange } from '@tsvmm/vm-device';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  RTC_CENTURY,
  RTC_DAY_OF_MONTH,
  RTC_DAY_OF_WEEK,
  RTC_HOURS,
  RTC_MINUTES,
  RTC_MONTH,
  RTC_PORT_DATA,
  RTC_PORT_INDEX,
  RTC_PORT_SIZE,
  RTC_REG_A,
  RTC_REG_B,
  RTC_REG_C,
  RTC_REG_D,
  RTC_SECONDS,
  RTC_YEAR,
  Rtc,
  VmSuperioError,
} from '../src/index.js';

// `pnpm fuzz` runs many more cases.
fc.configureGlobal({ numRuns: Number(process.env.VM_SUPERIO_FUZZ_RUNS ?? 200) });

/** An RTC on a clock the test moves. */
function rtcAt(ms: number) {
  const clock = { ms };
  const log = vi.fn();
  const rtc = new Rtc({ now: () => clock.ms, log });
  const io = new IoManager();
  io.registerPio(new PioRange(RTC_PORT_INDEX, RTC_PORT_SIZE), rtc);
  const b = new Uint8Array(1);
  const cmosRead = (index: number) => {
    io.pioWrite(RTC_PORT_INDEX, Uint8Array.of(index));
    io.pioRead(RTC_PORT_DATA, b);
    return b[0]!;
  };
  const cmosWrite = (index: number, value: number) => {
    io.pioWrite(RTC_PORT_INDEX, Uint8Array.of(index));
    io.pioWrite(RTC_PORT_DATA, Uint8Array.of(value));
  };
  const fields = () =>
    [
      RTC_SECONDS,
      RTC_MINUTES,
      RTC_HOURS,
      RTC_DAY_OF_WEEK,
      RTC_DAY_OF_MONTH,
      RTC_MONTH,
      RTC_YEAR,
      RTC_CENTURY,
    ].map(cmosRead);
  return { rtc, io, clock, cmosRead, cmosWrite, fields, log };
}

const LEAP_DAY = Date.UTC(2024, 1, 29, 13, 5, 9); // a Thursday

describe('Rtc time and date', () => {
  it('shows the host’s time in UTC, in BCD and 24-hour form by default', () => {
    const { cmosRead, fields } = rtcAt(LEAP_DAY + 250);
    expect(cmosRead(RTC_REG_B)).toBe(0x02);
    expect(fields()).toEqual([0x09, 0x05, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20]);
  });

  it('follows the real host clock', () => {
    const rtc = new Rtc();
    const bcd = (v: number) => (v >> 4) * 10 + (v & 15);
    const r = (i: number) => bcd(rtc.read(i));
    const before = Date.now();
    const shown = Date.UTC(
      r(RTC_CENTURY) * 100 + r(RTC_YEAR),
      r(RTC_MONTH) - 1,
      r(RTC_DAY_OF_MONTH),
      r(RTC_HOURS),
      r(RTC_MINUTES),
      r(RTC_SECONDS),
    );
    expect(Math.abs(shown - before)).toBeLessThan(2000);
    expect(Math.abs(rtc.time() - Date.now())).toBeLessThan(5);
  });

  it('switches to binary and to 12-hour form', () => {
    const { cmosWrite, fields, clock, cmosRead } = rtcAt(LEAP_DAY);
    cmosWrite(RTC_REG_B, 0x06);
    expect(fields()).toEqual([9, 5, 13, 5, 29, 2, 24, 20]);
    cmosWrite(RTC_REG_B, 0x00);
    expect(cmosRead(RTC_HOURS)).toBe(0x81); // 1 PM
    clock.ms = Date.UTC(2024, 0, 1, 0, 30);
    expect(cmosRead(RTC_HOURS)).toBe(0x12); // 12 AM
    clock.ms = Date.UTC(2024, 0, 1, 12, 30);
    expect(cmosRead(RTC_HOURS)).toBe(0x92); // 12 PM
    cmosWrite(RTC_REG_B, 0x04);
    expect(cmosRead(RTC_HOURS)).toBe(0x80 | 12);
  });

  it('takes a time set the way Linux sets it (SET, divider reset, fields, restore) and runs on from it', () => {
    const { cmosWrite, cmosRead, fields, clock, rtc } = rtcAt(LEAP_DAY);
    const control = cmosRead(RTC_REG_B);
    cmosWrite(RTC_REG_B, control | 0x80);
    const freq = cmosRead(RTC_REG_A);
    cmosWrite(RTC_REG_A, freq | 0x60);
    clock.ms += 3000; // time stands still while SET
    expect(cmosRead(RTC_SECONDS)).toBe(0x09);
    for (const [i, v] of [
      [RTC_YEAR, 0x99],
      [RTC_MONTH, 0x12],
      [RTC_DAY_OF_MONTH, 0x31],
      [RTC_HOURS, 0x23],
      [RTC_MINUTES, 0x59],
      [RTC_SECONDS, 0x58],
      [RTC_CENTURY, 0x19],
    ] as const)
      cmosWrite(i, v);
    cmosWrite(RTC_REG_B, control);
    cmosWrite(RTC_REG_A, freq);
    expect(rtc.time()).toBe(Date.UTC(1999, 11, 31, 23, 59, 58));
    clock.ms += 2500;
    expect(fields()).toEqual([0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20]); // Saturday 2000-01-01
  });

  it('takes a single field written while the clock runs', () => {
    const { cmosWrite, fields, rtc } = rtcAt(LEAP_DAY);
    cmosWrite(RTC_MINUTES, 0x45);
    expect(fields().slice(0, 3)).toEqual([0x09, 0x45, 0x13]);
    cmosWrite(RTC_DAY_OF_WEEK, 0x01); // the day of the week follows from the date
    expect(fields()[3]).toBe(0x05);
    cmosWrite(RTC_CENTURY, 0x00);
    expect(new Date(rtc.time()).getUTCFullYear()).toBe(24);
  });

  it('keeps the alarms and the CMOS RAM', () => {
    const { cmosWrite, cmosRead } = rtcAt(LEAP_DAY);
    cmosWrite(0x01, 0x30);
    cmosWrite(0x03, 0x15);
    cmosWrite(0x05, 0x07);
    cmosWrite(0x0e, 0xaa);
    cmosWrite(0x7f, 0x55);
    expect([cmosRead(0x01), cmosRead(0x03), cmosRead(0x05), cmosRead(0x0e), cmosRead(0x7f)]).toEqual([
      0x30, 0x15, 0x07, 0xaa, 0x55,
    ]);
    expect(cmosRead(RTC_SECONDS)).toBe(0x09);
  });
});

describe('Rtc status registers', () => {
  it('sets UIP from 244 µs before each update until the update ends', () => {
    const { cmosRead, cmosWrite, clock } = rtcAt(LEAP_DAY);
    const uip = (ms: number) => {
      clock.ms = ms;
      return cmosRead(RTC_REG_A) & 0x80;
    };
    expect(cmosRead(RTC_REG_A) & 0x7f).toBe(0x26);
    expect(uip(LEAP_DAY + 500)).toBe(0);
    expect(uip(LEAP_DAY + 999.7)).toBe(0);
    expect(uip(LEAP_DAY + 999.8)).toBe(0x80);
    expect(uip(LEAP_DAY + 1001.9)).toBe(0x80);
    expect(uip(LEAP_DAY + 1002)).toBe(0);
    cmosWrite(RTC_REG_B, 0x82);
    expect(uip(LEAP_DAY + 1000.5)).toBe(0); // no updates while SET
    cmosWrite(RTC_REG_B, 0x02);
    cmosWrite(RTC_REG_A, 0x66 | 0x80); // divider in reset; UIP itself is read-only
    expect(uip(LEAP_DAY + 2000.5)).toBe(0);
    expect(cmosRead(RTC_REG_A)).toBe(0x66);
  });

  it('reports update-ended and periodic flags since the last read of register C', () => {
    const { cmosRead, cmosWrite, clock } = rtcAt(LEAP_DAY + 100);
    expect(cmosRead(RTC_REG_C)).toBe(0);
    clock.ms += 0.5;
    expect(cmosRead(RTC_REG_C)).toBe(0);
    clock.ms += 0.6; // past a 1024 Hz tick
    expect(cmosRead(RTC_REG_C)).toBe(0x40);
    cmosWrite(RTC_REG_A, 0x20); // periodic flag off
    clock.ms += 1000;
    expect(cmosRead(RTC_REG_C)).toBe(0x10);
    cmosWrite(RTC_REG_B, 0x12); // UIE
    clock.ms += 1000;
    expect(cmosRead(RTC_REG_C)).toBe(0x90);
    expect(cmosRead(RTC_REG_C)).toBe(0);
    cmosWrite(RTC_REG_A, 0x23 | 0x40); // divider stopped
    clock.ms += 1000;
    expect(cmosRead(RTC_REG_C)).toBe(0);
    cmosWrite(RTC_REG_A, 0x21); // 256 Hz
    cmosWrite(RTC_REG_B, 0x42); // PIE
    clock.ms += 4;
    expect(cmosRead(RTC_REG_C)).toBe(0xc0); // PF with PIE; no second ended within these 4 ms
    cmosWrite(RTC_REG_B, 0x92); // SET clears UIE
    expect(cmosRead(RTC_REG_B)).toBe(0x82);
  });

  it('says the time is valid, and ignores writes to C and D', () => {
    const { cmosRead, cmosWrite, rtc, log } = rtcAt(LEAP_DAY);
    expect(cmosRead(RTC_REG_D)).toBe(0x80);
    cmosWrite(RTC_REG_D, 0);
    cmosWrite(RTC_REG_C, 0xff);
    expect(cmosRead(RTC_REG_D)).toBe(0x80);
    expect(rtc.metrics.invalidAccesses).toBe(2);
    expect(log).toHaveBeenCalledTimes(1);
  });
});

describe('Rtc ports', () => {
  it('reads back the index with the NMI mask, and ignores bad sizes and ports', () => {
    const { io, rtc, log } = rtcAt(LEAP_DAY);
    io.pioWrite(RTC_PORT_INDEX, Uint8Array.of(0x8d));
    const b = new Uint8Array(1);
    io.pioRead(RTC_PORT_INDEX, b);
    expect(b[0]).toBe(0x8d);
    io.pioRead(RTC_PORT_DATA, b);
    expect(b[0]).toBe(0x80); // register D
    const word = new Uint8Array(2);
    expect(io.pioRead(RTC_PORT_INDEX, word)).toBe('OK');
    expect([...word]).toEqual([0xff, 0xff]);
    io.pioWrite(RTC_PORT_INDEX, word);
    rtc.pioRead(RTC_PORT_INDEX, 2, b);
    expect(b[0]).toBe(0xff);
    rtc.pioWrite(RTC_PORT_INDEX, 2, b);
    expect(rtc.metrics.invalidAccesses).toBe(4);
    expect(log).toHaveBeenCalledTimes(2);
  });

  it('never throws and always shows a finite time, whatever the guest writes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            port: fc.constantFrom(RTC_PORT_INDEX, RTC_PORT_DATA),
            write: fc.boolean(),
            value: fc.integer({ min: 0, max: 255 }),
            advance: fc.double({ min: 0, max: 2000, noNaN: true }),
          }),
          { maxLength: 200 },
        ),
        (ops) => {
          const { rtc, clock } = rtcAt(LEAP_DAY);
          const b = new Uint8Array(1);
          for (const o of ops) {
            clock.ms += o.advance;
            b[0] = o.value;
            if (o.write) rtc.pioWrite(RTC_PORT_INDEX, o.port - RTC_PORT_INDEX, b);
            else rtc.pioRead(RTC_PORT_INDEX, o.port - RTC_PORT_INDEX, b);
            expect(Number.isFinite(rtc.time())).toBe(true);
          }
        },
      ),
    );
  });
});

describe('Rtc sharing', () => {
  it('attaches another view, and refuses foreign state and bad options', () => {
    const { rtc, cmosWrite } = rtcAt(LEAP_DAY);
    const other = Rtc.attach(structuredClone(rtc.shared), { now: () => LEAP_DAY });
    cmosWrite(0x40, 0x77);
    expect(other.read(0x40)).toBe(0x77);
    cmosWrite(RTC_MINUTES, 0x00);
    expect(other.read(RTC_MINUTES)).toBe(0x00);
    expect(() => Rtc.attach({ device: 'rtc', buffer: new SharedArrayBuffer(4) })).toThrow(VmSuperioError);
    expect(() => new Rtc({ now: 5 } as never)).toThrow(TypeError);
    expect(() => new Rtc({ log: 5 } as never)).toThrow(TypeError);
  });
});
