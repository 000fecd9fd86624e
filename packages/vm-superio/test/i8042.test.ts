import { IoManager, IrqFdEdgeInterrupt, PioRange } from '@tsvmm/vm-device';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { I8042_COMMAND_PORT, I8042_DATA_PORT, I8042Device, VmSuperioError } from '../src/index.js';

// `pnpm fuzz` runs many more cases.
fc.configureGlobal({ numRuns: Number(process.env.VM_SUPERIO_FUZZ_RUNS ?? 300) });

const efds: EventFd[] = [];
afterEach(() => {
  for (const e of efds.splice(0)) e.close();
});

function controller() {
  const kbdFd = new EventFd(0, EFD_NONBLOCK);
  const auxFd = new EventFd(0, EFD_NONBLOCK);
  efds.push(kbdFd, auxFd);
  const onReset = vi.fn();
  const log = vi.fn();
  const dev = new I8042Device({
    onReset,
    keyboardInterrupt: new IrqFdEdgeInterrupt(kbdFd),
    auxInterrupt: new IrqFdEdgeInterrupt(auxFd),
    log,
  });
  const io = new IoManager();
  io.registerPio(new PioRange(I8042_DATA_PORT, 1), dev);
  io.registerPio(new PioRange(I8042_COMMAND_PORT, 1), dev);
  const byte = new Uint8Array(1);
  const inb = (port: number) => {
    expect(io.pioRead(port, byte)).toBe('OK');
    return byte[0]!;
  };
  const outb = (port: number, value: number) => expect(io.pioWrite(port, Uint8Array.of(value))).toBe('OK');
  /** What Linux's i8042_command does: write the command (and data), poll OBF, read the results. */
  const command = (cmd: number, param?: number): number[] => {
    outb(I8042_COMMAND_PORT, cmd);
    if (param !== undefined) outb(I8042_DATA_PORT, param);
    const out: number[] = [];
    while (inb(I8042_COMMAND_PORT) & 0x01) out.push(inb(I8042_DATA_PORT));
    return out;
  };
  return { dev, io, inb, outb, command, onReset, log, kbdFd, auxFd };
}

describe('i8042 reset', () => {
  it('calls onReset when Linux (reboot=k) writes 0xfe to port 0x64', () => {
    const { outb, onReset, dev } = controller();
    outb(I8042_COMMAND_PORT, 0xfe);
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(dev.metrics.resets).toBe(1);
  });

  it('resets on any pulse command with bit 0 low, and on an output-port write with bit 0 low', () => {
    const { outb, command, onReset } = controller();
    outb(I8042_COMMAND_PORT, 0xff); // pulses nothing
    outb(I8042_COMMAND_PORT, 0xf1);
    expect(onReset).not.toHaveBeenCalled();
    outb(I8042_COMMAND_PORT, 0xf0);
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(command(0xd0)).toEqual([0x03]);
    command(0xd1, 0x03);
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(command(0xd0)).toEqual([0x03]);
    command(0xd1, 0x02);
    expect(onReset).toHaveBeenCalledTimes(2);
  });
});

describe('what Linux i8042 probes', () => {
  it('passes the controller and interface self tests', () => {
    const { command } = controller();
    expect(command(0xaa)).toEqual([0x55]);
    expect(command(0xab)).toEqual([0x00]);
    expect(command(0xa9)).toEqual([0x00]);
  });

  it('reads and writes the command byte and the rest of its RAM', () => {
    const { command } = controller();
    expect(command(0x20)).toEqual([0x65]);
    command(0x60, 0x47);
    expect(command(0x20)).toEqual([0x47]);
    command(0x7f, 0x99);
    expect(command(0x3f)).toEqual([0x99]);
  });

  it('reflects aux and keyboard port enables in the command byte (i8042_toggle_aux)', () => {
    const { command } = controller();
    command(0xa8);
    expect(command(0x20)[0]! & 0x20).toBe(0);
    command(0xa7);
    expect(command(0x20)[0]! & 0x20).toBe(0x20);
    command(0xad);
    expect(command(0x20)[0]! & 0x10).toBe(0x10);
    command(0xae);
    expect(command(0x20)[0]! & 0x10).toBe(0);
  });

  it('loops aux bytes back with AUXDATA and raises IRQ 12 while enabled (the AUX IRQ test)', () => {
    const { command, outb, inb, auxFd, kbdFd } = controller();
    command(0x60, 0x47); // AUXINT on, XLATE, SYS, KBDINT
    outb(I8042_COMMAND_PORT, 0xd3);
    outb(I8042_DATA_PORT, 0xa5);
    expect(inb(I8042_COMMAND_PORT) & 0x21).toBe(0x21);
    expect(auxFd.read()).toBe(1n);
    expect(kbdFd.read()).toBe(0n);
    expect(inb(I8042_DATA_PORT)).toBe(0xa5);
    // MUX detection: a plain controller echoes every byte, so Linux sees no multiplexer.
    for (const b of [0xf0, 0x56, 0xa4]) expect(command(0xd3, b)).toEqual([b]);
  });

  it('answers the keyboard like an MF2 keyboard, raising IRQ 1 per byte', () => {
    const { command, outb, inb, kbdFd } = controller();
    kbdFd.read();
    outb(I8042_DATA_PORT, 0xf2);
    expect(inb(I8042_COMMAND_PORT) & 0x29).toBe(0x01); // data, from the keyboard, last write was data
    expect(kbdFd.read()).toBe(1n);
    const id = [inb(I8042_DATA_PORT)];
    expect(kbdFd.read()).toBe(1n); // the next byte moved into the output buffer
    id.push(inb(I8042_DATA_PORT), inb(I8042_DATA_PORT));
    expect(id).toEqual([0xfa, 0xab, 0x83]);
    expect(inb(I8042_COMMAND_PORT) & 0x01).toBe(0);
    expect(inb(I8042_DATA_PORT)).toBe(0x83); // an empty buffer reads its last byte again
    const kbd = (...bytes: number[]) =>
      bytes.flatMap((b) => {
        outb(I8042_DATA_PORT, b);
        const out: number[] = [];
        while (inb(I8042_COMMAND_PORT) & 0x01) out.push(inb(I8042_DATA_PORT));
        return out;
      });
    expect(kbd(0xff)).toEqual([0xfa, 0xaa]);
    expect(kbd(0xed, 0x07)).toEqual([0xfa, 0xfa]);
    expect(kbd(0xf3, 0x20)).toEqual([0xfa, 0xfa]);
    expect(kbd(0xf0, 0x00)).toEqual([0xfa, 0xfa, 0x02]);
    expect(kbd(0xf0, 0x01, 0xf0, 0x00)).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0x01]);
    expect(kbd(0xf4, 0xf5, 0xf6)).toEqual([0xfa, 0xfa, 0xfa]);
    expect(kbd(0xee)).toEqual([0xee]);
    expect(kbd(0x12)).toEqual([0xfe]);
    expect(command(0xd2, 0x1c)).toEqual([0x1c]);
  });

  it('reports no mouse: aux device bytes come back as 0xfe with the timeout bit', () => {
    const { outb, inb } = controller();
    outb(I8042_COMMAND_PORT, 0xd4);
    expect(inb(I8042_COMMAND_PORT) & 0x08).toBe(0x08);
    outb(I8042_DATA_PORT, 0xff);
    expect(inb(I8042_COMMAND_PORT) & 0x61).toBe(0x61);
    expect(inb(I8042_DATA_PORT)).toBe(0xfe);
  });

  it('raises no interrupt the command byte disables', () => {
    const { command, kbdFd, auxFd } = controller();
    command(0x60, 0x44); // both interrupts off
    kbdFd.read();
    command(0xaa);
    command(0xd3, 1);
    expect(kbdFd.read()).toBe(0n);
    expect(auxFd.read()).toBe(0n);
  });
});

describe('i8042 against hostile guests', () => {
  it('counts and logs once what it ignores', () => {
    const { dev, io, command, log } = controller();
    const word = new Uint8Array(2);
    // The IoManager refuses accesses running past a 1-port range; the device copes anyway.
    expect(io.pioRead(I8042_DATA_PORT, word)).toBe('BAD_ACCESS_LENGTH');
    dev.pioRead(I8042_DATA_PORT, 0, word);
    expect([...word]).toEqual([0xff, 0xff]);
    dev.pioWrite(I8042_COMMAND_PORT, 0, new Uint8Array(4));
    command(0x13);
    command(0xc0);
    const b = new Uint8Array(1);
    dev.pioRead(0x60, 1, b);
    expect(b[0]).toBe(0xff);
    dev.pioWrite(0x60, 2, b);
    for (let i = 0; i < 20; i++) io.pioWrite(I8042_DATA_PORT, Uint8Array.of(0xee));
    expect(dev.metrics.invalidAccesses).toBe(2 + 2 + 2 + 4);
    expect(log).toHaveBeenCalledTimes(4); // size, unknown command, port, output full
  });

  it('never throws and keeps the output queue bounded under any port traffic', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            port: fc.constantFrom(0x60, 0x64),
            write: fc.boolean(),
            value: fc.integer({ min: 0, max: 255 }),
          }),
          { maxLength: 300 },
        ),
        (ops) => {
          let resets = 0;
          const dev = new I8042Device({
            onReset: () => resets++,
            keyboardInterrupt: { trigger() {} },
            log: () => {},
          });
          const b = new Uint8Array(1);
          for (const o of ops) {
            b[0] = o.value;
            if (o.write) dev.pioWrite(o.port, 0, b);
            else dev.pioRead(o.port, 0, b);
            const status = dev.readStatus();
            expect(status & 0x92).toBe(0x10); // never IBF or parity; keyboard never inhibited
          }
          let n = 0;
          while (dev.readStatus() & 1) {
            dev.readData();
            n++;
          }
          expect(n).toBeLessThanOrEqual(16);
          expect(dev.metrics.resets).toBe(resets);
        },
      ),
    );
  });
});

describe('i8042 sharing', () => {
  it('attaches another view, and refuses foreign state and bad options', () => {
    const { dev, command } = controller();
    const onReset = vi.fn();
    const other = I8042Device.attach(structuredClone(dev.shared), { onReset });
    command(0x60, 0x45);
    other.writeCommand(0x20);
    expect(other.readData()).toBe(0x45);
    other.writeCommand(0xfe);
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(dev.metrics.resets).toBe(1);
    expect(() => I8042Device.attach({ device: 'serial', buffer: dev.shared.buffer }, { onReset })).toThrow(
      VmSuperioError,
    );
    expect(() => new I8042Device({} as never)).toThrow(TypeError);
    expect(() => new I8042Device({ onReset, keyboardInterrupt: {} } as never)).toThrow(TypeError);
    expect(() => new I8042Device({ onReset, auxInterrupt: 1 } as never)).toThrow(TypeError);
    expect(() => new I8042Device({ onReset, log: 1 } as never)).toThrow(TypeError);
  });
});
