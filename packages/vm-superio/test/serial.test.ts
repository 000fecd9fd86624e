import { IoManager, IrqFdEdgeInterrupt, PioRange } from '@tsvmm/vm-device';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SERIAL_PORT_COM1,
  SERIAL_PORT_SIZE,
  Serial,
  UART_DLL,
  UART_DLM,
  UART_FCR,
  UART_IER,
  UART_IIR,
  UART_LCR,
  UART_LSR,
  UART_MCR,
  UART_MSR,
  UART_RX,
  UART_SCR,
  UART_TX,
  VmSuperioError,
} from '../src/index.js';

const efds: EventFd[] = [];
afterEach(() => {
  for (const e of efds.splice(0)) e.close();
});

/** A UART whose interrupt is a real eventfd and whose output is collected. */
function uart() {
  const irqfd = new EventFd(0, EFD_NONBLOCK);
  efds.push(irqfd);
  const out: number[] = [];
  const log = vi.fn();
  const serial = new Serial({ output: (b) => out.push(b), interrupt: new IrqFdEdgeInterrupt(irqfd), log });
  return { serial, out, irqfd, log, text: () => Buffer.from(out).toString() };
}

describe('Serial power-on state', () => {
  it('has the datasheet reset values and a connected modem', () => {
    const { serial } = uart();
    expect(serial.read(UART_IER)).toBe(0);
    expect(serial.read(UART_IIR)).toBe(0x01);
    expect(serial.read(UART_LCR)).toBe(0);
    expect(serial.read(UART_MCR)).toBe(0);
    expect(serial.read(UART_LSR)).toBe(0x60);
    expect(serial.read(UART_MSR)).toBe(0xb0);
  });
});

describe('what Linux 8250 autoconfig probes', () => {
  it('keeps only the four IER bits of a 16550A', () => {
    const { serial } = uart();
    serial.write(UART_IER, 0);
    expect(serial.read(UART_IER) & 0x0f).toBe(0);
    serial.write(UART_IER, 0x0f);
    expect(serial.read(UART_IER)).toBe(0x0f);
    serial.write(UART_IER, 0xff); // the XScale UUE probe must fail
    expect(serial.read(UART_IER)).toBe(0x0f);
  });

  it('loops MCR outputs back to the MSR inputs (RTS|OUT2 gives CTS|DCD)', () => {
    const { serial } = uart();
    serial.write(UART_MCR, 0x10 | 0x0a);
    expect(serial.read(UART_MSR) & 0xf0).toBe(0x90);
    serial.write(UART_MCR, 0x10 | 0x05); // DTR|OUT1 gives DSR|RI
    expect(serial.read(UART_MSR) & 0xf0).toBe(0x60);
  });

  it('reports 16550A FIFOs in IIR bits 7:6 and no 64-byte FIFO', () => {
    const { serial } = uart();
    serial.write(UART_FCR, 0x01);
    expect(serial.read(UART_IIR) >> 6).toBe(3);
    serial.write(UART_LCR, 0xbf); // EFR probe: a 16550A answers IIR at offset 2
    expect(serial.read(2)).not.toBe(0);
    serial.write(UART_LCR, 0);
    serial.write(UART_FCR, 0x01 | 0x20);
    const status1 = serial.read(UART_IIR) >> 5;
    serial.write(UART_LCR, 0x80);
    serial.write(UART_FCR, 0x01 | 0x20);
    const status2 = serial.read(UART_IIR) >> 5;
    expect([status1, status2]).toEqual([6, 6]); // 16750 would give 6, 7
  });

  it('raises THR-empty as soon as the interrupt is enabled (no UART_BUG_TXEN/THRE)', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_IER, 0x02);
    expect(serial.read(UART_LSR) & 0x40).toBe(0x40);
    expect(serial.read(UART_IIR)).toBe(0x02);
    expect(irqfd.read()).toBe(1n);
    // serial8250_do_startup's test: THRE must be reasserted when THRI is enabled again.
    serial.write(UART_IER, 0);
    serial.write(UART_IER, 0x02);
    const iir1 = serial.read(UART_IIR);
    serial.write(UART_IER, 0);
    serial.write(UART_IER, 0x02);
    const iir = serial.read(UART_IIR);
    serial.write(UART_IER, 0);
    expect([iir1 & 0x01, iir & 0x01]).toEqual([0, 0]);
    expect(serial.read(UART_IIR)).toBe(0x01);
  });
});

describe('transmit', () => {
  it('sends THR writes to the output with THRE and TEMT always set', () => {
    const { serial, text } = uart();
    for (const c of Buffer.from('hi\n')) serial.write(UART_TX, c);
    expect(text()).toBe('hi\n');
    expect(serial.read(UART_LSR) & 0x60).toBe(0x60);
    expect(serial.metrics.txBytes).toBe(3);
  });

  it('raises one interrupt per burst while THRI is enabled; reading IIR acknowledges it', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_IER, 0x02);
    expect(irqfd.read()).toBe(1n);
    expect(serial.read(UART_IIR)).toBe(0x02);
    expect(serial.read(UART_IIR)).toBe(0x01);
    for (const c of Buffer.from('abcd')) serial.write(UART_TX, c);
    expect(irqfd.read()).toBe(1n);
    expect(serial.read(UART_IIR)).toBe(0x02);
    serial.write(UART_TX, 0x65);
    expect(irqfd.read()).toBe(1n);
    expect(serial.metrics.interrupts).toBe(3);
  });

  it('does not interrupt for THR empty when THRI is disabled', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_TX, 0x41);
    expect(serial.read(UART_IIR)).toBe(0x01);
    expect(irqfd.read()).toBe(0n);
  });
});

describe('divisor latch', () => {
  it('maps offsets 0 and 1 to DLL/DLM while DLAB is set, without transmitting', () => {
    const { serial, out } = uart();
    expect(serial.read(UART_LCR)).toBe(0);
    serial.write(UART_LCR, 0x83);
    expect(serial.read(UART_DLL)).toBe(0x0c); // 9600 baud at reset
    serial.write(UART_DLL, 0x01);
    serial.write(UART_DLM, 0x02);
    expect(serial.read(UART_DLL)).toBe(0x01);
    expect(serial.read(UART_DLM)).toBe(0x02);
    expect(out).toEqual([]);
    serial.write(UART_LCR, 0x03);
    expect(serial.read(UART_IER)).toBe(0);
    serial.write(UART_TX, 0x42);
    expect(out).toEqual([0x42]);
    expect(serial.read(UART_LCR)).toBe(0x03);
  });

  it('keeps the scratch register', () => {
    const { serial } = uart();
    serial.write(UART_SCR, 0x5a);
    expect(serial.read(UART_SCR)).toBe(0x5a);
    serial.write(UART_SCR, 0x1a5);
    expect(serial.read(UART_SCR)).toBe(0xa5);
  });
});

describe('receive', () => {
  it('holds one byte without FIFOs and reports it as received data', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_IER, 0x01);
    expect(serial.enqueueInput(Buffer.from('abc'))).toBe(1);
    expect(serial.inputSpace()).toBe(0);
    expect(irqfd.read()).toBe(1n);
    expect(serial.read(UART_IIR)).toBe(0x04);
    expect(serial.read(UART_LSR) & 0x01).toBe(1);
    expect(serial.read(UART_RX)).toBe(0x61);
    expect(serial.read(UART_LSR) & 0x01).toBe(0);
    expect(serial.read(UART_IIR)).toBe(0x01);
    expect(serial.read(UART_RX)).toBe(0);
  });

  it('fills a 16-byte FIFO and tells data below the trigger level as a timeout', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_FCR, 0x81); // FIFO on, trigger at 8
    serial.write(UART_IER, 0x01);
    expect(serial.enqueueInput(Buffer.from('01234'))).toBe(5);
    expect(serial.read(UART_IIR)).toBe(0xcc);
    expect(irqfd.read()).toBe(1n);
    expect(serial.enqueueInput(Buffer.from('56789abcdefghijk'))).toBe(11);
    expect(serial.read(UART_IIR)).toBe(0xc4);
    expect(irqfd.read()).toBe(0n); // INTR stayed high: no new edge
    const got: number[] = [];
    while (serial.read(UART_LSR) & 0x01) got.push(serial.read(UART_RX));
    expect(Buffer.from(got).toString()).toBe('0123456789abcdef');
    expect(serial.read(UART_IIR)).toBe(0xc1);
    expect(serial.metrics.rxBytes).toBe(16);
  });

  it('honours each trigger level', () => {
    for (const [fcr, level] of [
      [0x01, 1],
      [0x41, 4],
      [0x81, 8],
      [0xc1, 14],
    ] as const) {
      const { serial } = uart();
      serial.write(UART_FCR, fcr);
      serial.write(UART_IER, 0x01);
      serial.enqueueInput(new Uint8Array(level - 1));
      expect(serial.read(UART_IIR)).toBe(level === 1 ? 0xc1 : 0xcc);
      serial.enqueueInput(new Uint8Array(1));
      expect(serial.read(UART_IIR)).toBe(0xc4);
    }
  });

  it('clears the receive FIFO on FCR clear and when FIFOs are switched on or off', () => {
    const { serial } = uart();
    serial.write(UART_FCR, 0x01);
    serial.enqueueInput(Buffer.from('xyz'));
    serial.write(UART_FCR, 0x01 | 0x02);
    expect(serial.read(UART_LSR) & 0x01).toBe(0);
    serial.enqueueInput(Buffer.from('xyz'));
    serial.write(UART_FCR, 0x01 | 0x04); // clearing TX leaves RX alone
    expect(serial.read(UART_LSR) & 0x01).toBe(1);
    serial.write(UART_FCR, 0x00);
    expect(serial.read(UART_LSR) & 0x01).toBe(0);
    expect(serial.read(UART_IIR) & 0xc0).toBe(0);
    expect(serial.inputSpace()).toBe(1);
  });

  it('lets a waiter know when the guest makes room', async () => {
    const { serial } = uart();
    expect(serial.enqueueInput(Buffer.from('ab'))).toBe(1);
    let resolved = false;
    const waiting = serial.whenInputSpace().then(() => {
      resolved = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    expect(serial.read(UART_RX)).toBe(0x61);
    await waiting;
    expect(serial.enqueueInput(Buffer.from('b'))).toBe(1);
    serial.write(UART_FCR, 0x01); // FIFOs on: 16 bytes of room, so no wait
    await serial.whenInputSpace();
    expect(serial.inputSpace()).toBe(16);
  });

  it('rejects input that is not bytes', () => {
    const { serial } = uart();
    expect(() => serial.enqueueInput('abc' as never)).toThrow(TypeError);
  });
});

describe('loopback', () => {
  it('routes transmitted bytes to the receiver instead of the output', () => {
    const { serial, out } = uart();
    serial.write(UART_FCR, 0x01);
    serial.write(UART_MCR, 0x10);
    serial.write(UART_TX, 0x55);
    expect(out).toEqual([]);
    expect(serial.read(UART_RX)).toBe(0x55);
    expect(serial.enqueueInput(Buffer.from('z'))).toBe(0);
    expect(serial.inputSpace()).toBe(0);
  });

  it('overruns a full FIFO, which raises a line-status interrupt above everything else', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_FCR, 0x01);
    serial.write(UART_MCR, 0x10);
    serial.write(UART_IER, 0x0f);
    for (let i = 0; i < 17; i++) serial.write(UART_TX, i);
    expect(serial.metrics.overruns).toBe(1);
    expect(serial.read(UART_IIR)).toBe(0xc6);
    expect(serial.read(UART_LSR)).toBe(0x63);
    expect(serial.read(UART_LSR)).toBe(0x61);
    expect(serial.read(UART_IIR)).toBe(0xc4);
    for (let i = 0; i < 16; i++) expect(serial.read(UART_RX)).toBe(i);
    expect(irqfd.read()).toBe(1n);
  });

  it('reports modem-line changes as deltas, with a modem-status interrupt at the lowest priority', () => {
    const { serial, irqfd } = uart();
    serial.write(UART_IER, 0x08);
    expect(serial.read(UART_IIR)).toBe(0x01);
    serial.write(UART_MCR, 0x10 | 0x04); // loop, OUT1 → RI
    expect(irqfd.read()).toBe(1n);
    expect(serial.read(UART_IIR)).toBe(0x00);
    expect(serial.read(UART_MSR)).toBe(0x40 | 0x08 | 0x02 | 0x01); // RI; DCD, DSR, CTS dropped
    expect(serial.read(UART_MSR)).toBe(0x40);
    expect(serial.read(UART_IIR)).toBe(0x01);
    serial.write(UART_MCR, 0x10); // RI falls: trailing edge
    expect(serial.read(UART_MSR)).toBe(0x04);
    serial.write(UART_IER, 0x0a);
    expect(serial.read(UART_IIR)).toBe(0x02); // THRE outranks modem status
    serial.write(UART_MCR, 0x00); // leaving loopback brings the terminal's lines back
    expect(serial.read(UART_MSR)).toBe(0xb0 | 0x0b);
  });
});

describe('hostile guest accesses', () => {
  it('counts and logs once, never throws, and reads all ones', () => {
    const { serial, log } = uart();
    const io = new IoManager();
    io.registerPio(new PioRange(SERIAL_PORT_COM1, SERIAL_PORT_SIZE), serial);
    const word = new Uint8Array(2);
    expect(io.pioRead(SERIAL_PORT_COM1 + 5, word)).toBe('OK');
    expect([...word]).toEqual([0xff, 0xff]);
    expect(io.pioWrite(SERIAL_PORT_COM1, new Uint8Array(4))).toBe('OK');
    serial.write(UART_LSR, 0);
    serial.write(UART_MSR, 0);
    serial.mmioWrite(0n, 9, Uint8Array.of(1));
    const b = new Uint8Array(1);
    serial.mmioRead(0n, 8, b);
    expect(b[0]).toBe(0xff);
    expect(serial.metrics.invalidAccesses).toBe(6);
    expect(log).toHaveBeenCalledTimes(3); // bad size, read-only register, bad offset
    expect(log.mock.calls[0]![0]).toMatch(/^serial: ignored guest 2-byte read at 0x3f8\+5 \(logged once\)$/);
  });

  it('works through an IoManager and an MMIO mapping alike', () => {
    const { serial, text } = uart();
    const io = new IoManager();
    io.registerPio(new PioRange(SERIAL_PORT_COM1, SERIAL_PORT_SIZE), serial);
    for (const c of Buffer.from('ok')) io.pioWrite(SERIAL_PORT_COM1, Uint8Array.of(c));
    serial.mmioWrite(0n, UART_TX, Uint8Array.of(0x21));
    const lsr = new Uint8Array(1);
    serial.mmioRead(0n, UART_LSR, lsr);
    expect(lsr[0]).toBe(0x60);
    expect(text()).toBe('ok!');
  });
});

describe('sharing', () => {
  it('attaches a second view to the same registers and FIFO', () => {
    const a = uart();
    const out: number[] = [];
    const b = Serial.attach(structuredClone(a.serial.shared), {
      output: (x) => out.push(x),
      interrupt: { trigger() {} },
    });
    a.serial.write(UART_SCR, 0x77);
    expect(b.read(UART_SCR)).toBe(0x77);
    b.write(UART_TX, 0x31);
    expect(out).toEqual([0x31]);
    expect(a.serial.metrics.txBytes).toBe(1);
    a.serial.enqueueInput(Buffer.from('q'));
    expect(b.read(UART_RX)).toBe(0x71);
  });

  it('refuses state that is not a UART’s, and bad options', () => {
    const a = uart();
    const opts = { output: () => {}, interrupt: { trigger() {} } };
    const bad = [
      null,
      { device: 'i8042', buffer: a.serial.shared.buffer },
      { device: 'serial', buffer: new SharedArrayBuffer(8) },
      { device: 'serial', buffer: new ArrayBuffer(a.serial.shared.buffer.byteLength) },
    ];
    for (const shared of bad) {
      expect(() => Serial.attach(shared as never, opts)).toThrow(VmSuperioError);
      expect(() => Serial.attach(shared as never, opts)).toThrow(
        expect.objectContaining({ code: 'BAD_SHARED_STATE' }),
      );
    }
    const forged = new SharedArrayBuffer(a.serial.shared.buffer.byteLength);
    expect(() => Serial.attach({ device: 'serial', buffer: forged }, opts)).toThrow(
      expect.objectContaining({ code: 'BAD_SHARED_STATE' }),
    );
    expect(() => new Serial({ output: 1, interrupt: { trigger() {} } } as never)).toThrow(TypeError);
    expect(() => new Serial({ output: () => {}, interrupt: {} } as never)).toThrow(TypeError);
    expect(() => new Serial({ ...opts, log: 'x' } as never)).toThrow(TypeError);
    expect(() => new Serial(undefined as never)).toThrow(TypeError);
  });
});
