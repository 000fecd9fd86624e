import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DeviceMmio,
  type DevicePio,
  IoManager,
  ioError,
  MmioRange,
  PioRange,
  VmDeviceError,
} from '../src/index.js';

// `pnpm fuzz` runs many more cases.
fc.configureGlobal({ numRuns: Number(process.env.VM_DEVICE_FUZZ_RUNS ?? 200) });

/** A device that records every access and answers reads with its offset. */
class Recorder implements DevicePio, DeviceMmio {
  readonly log: string[] = [];
  pioRead(base: number, offset: number, data: Uint8Array): void {
    this.log.push(`pio r ${base.toString(16)}+${offset} ${data.length}`);
    data.fill(offset);
  }
  pioWrite(base: number, offset: number, data: Uint8Array): void {
    this.log.push(`pio w ${base.toString(16)}+${offset} ${[...data].join(',')}`);
  }
  mmioRead(base: bigint, offset: number, data: Uint8Array): void {
    this.log.push(`mmio r ${base.toString(16)}+${offset} ${data.length}`);
    data.fill(offset & 0xff);
  }
  mmioWrite(base: bigint, offset: number, data: Uint8Array): void {
    this.log.push(`mmio w ${base.toString(16)}+${offset} ${[...data].join(',')}`);
  }
}

describe('IoManager port I/O', () => {
  it('dispatches reads and writes with the base and the offset in the range', () => {
    const io = new IoManager();
    const serial = new Recorder();
    io.registerPio(new PioRange(0x3f8, 8), serial);
    const data = new Uint8Array(1);
    expect(io.pioRead(0x3fd, data)).toBe('OK');
    expect(data[0]).toBe(5);
    expect(io.pioWrite(0x3f8, Uint8Array.of(0x41))).toBe('OK');
    expect(serial.log).toEqual(['pio r 3f8+5 1', 'pio w 3f8+0 65']);
  });

  it('reports an unclaimed port and leaves the data alone', () => {
    const io = new IoManager();
    io.registerPio(new PioRange(0x60, 1), new Recorder());
    const data = Uint8Array.of(0xab);
    expect(io.pioRead(0x61, data)).toBe('NO_DEVICE');
    expect(io.pioWrite(0x5f, data)).toBe('NO_DEVICE');
    expect(io.pioRead(0x10000, data)).toBe('NO_DEVICE');
    expect(io.pioRead(-1, data)).toBe('NO_DEVICE');
    expect(io.pioRead(1.5, data)).toBe('NO_DEVICE');
    expect(data[0]).toBe(0xab);
  });

  it('rejects sizes other than 1, 2 and 4 and accesses that run past the range', () => {
    const io = new IoManager();
    const dev = new Recorder();
    io.registerPio(new PioRange(0xcf8, 8), dev);
    expect(io.pioRead(0xcf8, new Uint8Array(4))).toBe('OK');
    expect(io.pioRead(0xcfc, new Uint8Array(4))).toBe('OK');
    expect(io.pioRead(0xcf8, new Uint8Array(3))).toBe('BAD_ACCESS_LENGTH');
    expect(io.pioWrite(0xcf8, new Uint8Array(8))).toBe('BAD_ACCESS_LENGTH');
    expect(io.pioRead(0xcf8, new Uint8Array(0))).toBe('BAD_ACCESS_LENGTH');
    expect(io.pioRead(0xcfd, new Uint8Array(4))).toBe('BAD_ACCESS_LENGTH');
    expect(io.pioWrite(0xcff, new Uint8Array(2))).toBe('BAD_ACCESS_LENGTH');
    expect(dev.log).toHaveLength(2);
  });

  it('rejects overlapping registrations and frees a range on deregister', () => {
    const io = new IoManager();
    const a = new Recorder();
    io.registerPio(new PioRange(0x70, 2), a);
    expect(() => io.registerPio(new PioRange(0x71, 4), new Recorder())).toThrow(
      expect.objectContaining({ code: 'OVERLAP' }),
    );
    expect(() => io.registerPio(new PioRange(0x60, 0x11), new Recorder())).toThrow(VmDeviceError);
    expect(() => io.deregisterPio(0x71)).toThrow(expect.objectContaining({ code: 'NOT_REGISTERED' }));
    expect(() => io.deregisterPio(0x72)).toThrow(expect.objectContaining({ code: 'NOT_REGISTERED' }));
    expect(io.deregisterPio(0x70)).toBe(a);
    expect(io.pioRead(0x70, new Uint8Array(1))).toBe('NO_DEVICE');
    const b = new Recorder();
    io.registerPio(new PioRange(0x71, 4), b);
    io.pioWrite(0x74, Uint8Array.of(1));
    expect(b.log).toEqual(['pio w 71+3 1']);
  });

  it('lists registrations in port order', () => {
    const io = new IoManager();
    io.registerPio(new PioRange(0x3f8, 8), new Recorder());
    io.registerPio(new PioRange(0x60, 1), new Recorder());
    io.registerPio(new PioRange(0x64, 1), new Recorder());
    io.deregisterPio(0x60);
    expect([...io.pio.entries()].map((e) => e.range.toString())).toEqual(['0x64..0x64', '0x3f8..0x3ff']);
  });

  it('agrees with a naive model for any sequence of registrations and accesses', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        base: fc.integer({ min: 0, max: 0xff }),
        size: fc.integer({ min: 1, max: 16 }),
      }),
      fc.record({ kind: fc.constant('del' as const), base: fc.integer({ min: 0, max: 0xff }) }),
      fc.record({
        kind: fc.constant('read' as const),
        port: fc.integer({ min: 0, max: 0x10f }),
        len: fc.constantFrom(0, 1, 2, 3, 4, 8),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const io = new IoManager();
        const model: Array<{ base: number; size: number; dev: Recorder }> = [];
        for (const o of ops) {
          if (o.kind === 'add') {
            if (o.base + o.size > 0x10000) continue;
            const clash = model.some((m) => o.base < m.base + m.size && m.base < o.base + o.size);
            const dev = new Recorder();
            if (clash) expect(() => io.registerPio(new PioRange(o.base, o.size), dev)).toThrow(VmDeviceError);
            else {
              io.registerPio(new PioRange(o.base, o.size), dev);
              model.push({ base: o.base, size: o.size, dev });
            }
          } else if (o.kind === 'del') {
            const i = model.findIndex((m) => m.base === o.base);
            if (i < 0) expect(() => io.deregisterPio(o.base)).toThrow(VmDeviceError);
            else expect(io.deregisterPio(o.base)).toBe(model.splice(i, 1)[0]!.dev);
          } else {
            const owner = model.find((m) => o.port >= m.base && o.port < m.base + m.size);
            const data = new Uint8Array(o.len);
            const expected =
              owner === undefined
                ? 'NO_DEVICE'
                : [1, 2, 4].includes(o.len) && o.port + o.len <= owner.base + owner.size
                  ? 'OK'
                  : 'BAD_ACCESS_LENGTH';
            expect(io.pioRead(o.port, data)).toBe(expected);
            if (expected === 'OK')
              expect(owner!.dev.log.at(-1)).toBe(
                `pio r ${owner!.base.toString(16)}+${o.port - owner!.base} ${o.len}`,
              );
          }
        }
      }),
    );
  });
});

describe('IoManager MMIO', () => {
  it('dispatches loads and stores of 1 to 8 bytes with the base and the offset', () => {
    const io = new IoManager();
    const dev = new Recorder();
    io.registerMmio(new MmioRange(0xd000_0000n, 0x1000n), dev);
    const data = new Uint8Array(8);
    expect(io.mmioRead(0xd000_0ff8n, data)).toBe('OK');
    expect([...data]).toEqual(Array(8).fill(0xf8));
    expect(io.mmioWrite(0xd000_0050, Uint8Array.of(1, 2, 3, 4))).toBe('OK');
    expect(dev.log).toEqual(['mmio r d0000000+4088 8', 'mmio w d0000000+80 1,2,3,4']);
  });

  it('reports unclaimed addresses, bad sizes and accesses running past the range', () => {
    const io = new IoManager();
    const dev = new Recorder();
    io.registerMmio(new MmioRange(0x1000n, 0x100n), dev);
    io.registerMmio(new MmioRange(0x1100n, 0x100n), dev);
    expect(io.mmioRead(0xfffn, new Uint8Array(1))).toBe('NO_DEVICE');
    expect(io.mmioRead(0x1200, new Uint8Array(1))).toBe('NO_DEVICE');
    expect(io.mmioRead(2n ** 60n, new Uint8Array(1))).toBe('NO_DEVICE');
    expect(io.mmioRead(-4, new Uint8Array(1))).toBe('NO_DEVICE');
    expect(io.mmioWrite(0x10fd, new Uint8Array(4))).toBe('BAD_ACCESS_LENGTH');
    expect(io.mmioWrite(0x1000, new Uint8Array(16))).toBe('BAD_ACCESS_LENGTH');
    expect(io.mmioRead(0x1000, new Uint8Array(3))).toBe('BAD_ACCESS_LENGTH');
    expect(io.mmioRead(0x11fc, new Uint8Array(4))).toBe('OK');
    expect(dev.log).toEqual(['mmio r 1100+252 4']);
  });

  it('rejects overlaps on either side, deregisters, and forgets the cached hit', () => {
    const io = new IoManager();
    const a = new Recorder();
    io.registerMmio(new MmioRange(0x2000n, 0x1000n), a);
    expect(() => io.registerMmio(new MmioRange(0x1000n, 0x1001n), a)).toThrow(
      expect.objectContaining({ code: 'OVERLAP' }),
    );
    expect(() => io.registerMmio(new MmioRange(0x2fffn, 0x10n), a)).toThrow(
      expect.objectContaining({ code: 'OVERLAP' }),
    );
    io.registerMmio(new MmioRange(0x1000n, 0x1000n), a);
    expect(io.mmioRead(0x2004n, new Uint8Array(4))).toBe('OK');
    expect(() => io.deregisterMmio(0x2004n)).toThrow(expect.objectContaining({ code: 'NOT_REGISTERED' }));
    expect(() => io.deregisterMmio(0x500n)).toThrow(expect.objectContaining({ code: 'NOT_REGISTERED' }));
    expect(io.deregisterMmio(0x2000n)).toBe(a);
    expect(io.mmioRead(0x2004n, new Uint8Array(4))).toBe('NO_DEVICE');
    expect([...io.mmio.entries()].map((e) => e.range.toString())).toEqual(['0x1000..0x1fff']);
  });

  it('finds the owner of any address like a linear scan does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            base: fc.bigInt({ min: 0n, max: 1n << 40n }),
            size: fc.bigInt({ min: 1n, max: 1n << 20n }),
          }),
          { maxLength: 30 },
        ),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 40n) + (1n << 20n) }), { maxLength: 50 }),
        (ranges, probes) => {
          const io = new IoManager();
          const placed: MmioRange[] = [];
          for (const r of ranges) {
            const range = new MmioRange(r.base, r.size);
            if (placed.some((p) => p.overlaps(range))) continue;
            io.registerMmio(range, new Recorder());
            placed.push(range);
          }
          for (const p of [...probes, ...placed.map((r) => r.last), ...placed.map((r) => r.base - 1n)]) {
            expect(io.mmio.find(p)?.range).toBe(placed.find((r) => r.contains(p)));
          }
        },
      ),
    );
  });
});

describe('ioError', () => {
  it('names the failure and the address', () => {
    const noDev = ioError('NO_DEVICE', 'pio', 0x80, 1);
    expect(noDev).toBeInstanceOf(VmDeviceError);
    expect(noDev.code).toBe('NO_DEVICE');
    expect(noDev.message).toBe('no device at port 0x80');
    const bad = ioError('BAD_ACCESS_LENGTH', 'mmio', 0xd0000000n, 3);
    expect(bad.code).toBe('BAD_ACCESS_LENGTH');
    expect(bad.message).toBe('bad 3-byte access at MMIO address 0xd0000000');
  });
});
