import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPLIT_DESCRIPTOR, type SplitDescriptor } from '../src/index.js';
import { MockSplitQueue } from '../src/testing/index.js';
import { bytes, codeOf, testMemory } from './helpers.js';

/** Pops a chain made of the given buffers. */
function chainOf(buffers: Parameters<MockSplitQueue['addChain']>[0]) {
  const mem = testMemory();
  const driver = new MockSplitQueue(mem, 16);
  const placed = driver.addChain(buffers);
  const chain = driver.createQueue().popDescriptorChain(mem)!;
  return { mem, chain, placed };
}

describe('Reader', () => {
  it('reads across buffers, skipping empty ones, as one stream', () => {
    const { chain } = chainOf([
      { data: bytes(1, 2, 3) },
      { len: 0 },
      { data: bytes(4, 5, 6, 7, 8, 9, 10, 11) },
      { data: bytes(12, 13, 14, 15) },
    ]);
    const r = chain.reader();
    expect(r.availableBytes).toBe(15);
    expect(r.readU8()).toBe(1);
    expect(r.readU16()).toBe(0x0302);
    expect(r.readU32()).toBe(0x07060504);
    expect(r.readU64()).toBe(0x0f0e0d0c0b0a0908n);
    expect([r.availableBytes, r.bytesRead]).toEqual([0, 15]);
    expect(r.read(new Uint8Array(4))).toBe(0);
  });

  it('reads integers that straddle buffers, little-endian', () => {
    const { chain } = chainOf([
      { data: bytes(0x11) },
      { data: bytes(0x22, 0x33) },
      { data: bytes(0x44, 0x55, 0x66, 0x77, 0x88, 0x99) },
    ]);
    const r = chain.reader();
    expect(r.readU16()).toBe(0x2211);
    expect(r.readU16()).toBe(0x4433);
    expect(r.readU32()).toBe(0x88776655);
    expect(codeOf(() => r.readU16())).toBe('SHORT_BUFFER');
    expect(r.readU8()).toBe(0x99);
  });

  it('fails SHORT_BUFFER without consuming anything', () => {
    const { chain } = chainOf([{ data: bytes(1, 2, 3) }]);
    const r = chain.reader();
    expect(codeOf(() => r.readU32())).toBe('SHORT_BUFFER');
    expect(codeOf(() => r.readExact(new Uint8Array(4)))).toBe('SHORT_BUFFER');
    expect(codeOf(() => r.skip(4))).toBe('SHORT_BUFFER');
    expect(codeOf(() => r.slices(4))).toBe('SHORT_BUFFER');
    expect(codeOf(() => r.readU64())).toBe('SHORT_BUFFER');
    expect(r.availableBytes).toBe(3);
    const partial = new Uint8Array(8);
    expect(r.read(partial)).toBe(3);
    expect([...partial.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(() => r.skip(-1)).toThrow(RangeError);
  });

  it('decodes objects through layouts and hands out zero-copy views', () => {
    const desc: SplitDescriptor = { addr: 0x1234n, len: 7, flags: 3, next: 9 };
    const raw = new Uint8Array(16);
    SPLIT_DESCRIPTOR.write(new DataView(raw.buffer), 0, desc, 'test');
    const { chain, mem, placed } = chainOf([
      { data: raw.subarray(0, 5) },
      { data: raw.subarray(5) },
      { data: bytes(7, 7) },
    ]);
    const r = chain.reader();
    expect(r.readObj(SPLIT_DESCRIPTOR)).toEqual(desc);
    const views = r.slices();
    expect(views.map((v) => [...v])).toEqual([[7, 7]]);
    mem.writeU8(placed.buffers[2]!.addr, 8);
    expect(views[0]![0]).toBe(8); // a view of guest memory, not a copy
    expect(r.availableBytes).toBe(0);
  });
});

describe('Writer', () => {
  it('writes across buffers and counts what it wrote', () => {
    const { chain, mem, placed } = chainOf([
      { data: bytes(1) },
      { len: 3, write: true },
      { len: 0, write: true },
      { len: 16, write: true },
    ]);
    const w = chain.writer();
    expect(w.availableBytes).toBe(19);
    w.writeU8(0xaa);
    w.writeU32(0x11223344); // straddles the first two writable buffers
    w.writeU16(0x5566);
    w.writeU64(0x0102030405060708n);
    expect(w.write(bytes(9, 9, 9, 9, 9, 9))).toBe(4);
    expect(w.bytesWritten).toBe(19);
    const [, a, , b] = placed.buffers;
    expect([...mem.getSlice(a!.addr, 3)]).toEqual([0xaa, 0x44, 0x33]);
    expect([...mem.getSlice(b!.addr, 16)]).toEqual([
      0x22, 0x11, 0x66, 0x55, 8, 7, 6, 5, 4, 3, 2, 1, 9, 9, 9, 9,
    ]);
    expect(codeOf(() => w.writeU8(0))).toBe('SHORT_BUFFER');
  });

  it('rejects values that do not fit, before writing', () => {
    const { chain } = chainOf([{ len: 16, write: true }]);
    const w = chain.writer();
    expect(() => w.writeU8(256)).toThrow(RangeError);
    expect(() => w.writeU16(-1)).toThrow(RangeError);
    expect(() => w.writeU32(2 ** 32)).toThrow(RangeError);
    expect(() => w.writeU64(-1n)).toThrow(RangeError);
    expect(w.bytesWritten).toBe(0);
  });

  it('writes objects, skips, and hands out writable views that mark pages dirty', () => {
    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x100000 }], { dirtyTracking: true });
    const driver = new MockSplitQueue(mem, 16);
    const { buffers } = driver.addChain([
      { len: 20, write: true },
      { len: 0x2000, write: true },
    ]);
    const chain = driver.createQueue().popDescriptorChain(mem)!;
    const w = chain.writer();
    w.skip(2);
    w.writeObj(SPLIT_DESCRIPTOR, { addr: 1n, len: 2, flags: 3, next: 4 });
    expect(codeOf(() => w.writeExact(new Uint8Array(0x2003)))).toBe('SHORT_BUFFER');
    for (const r of mem.regions) r.dirtyBitmap!.readAndReset();
    const views = w.slices(0x1000);
    expect(views.map((v) => v.length)).toEqual([2, 0xffe]);
    views[1]!.fill(0x5a);
    expect(mem.readU8(buffers[1]!.addr + 0xffdn)).toBe(0x5a);
    expect(mem.regions[0]!.dirtyBitmap!.isDirty(Number(buffers[1]!.addr), 0xffe)).toBe(true);
    expect(w.bytesWritten).toBe(18 + 0x1000);
    expect(mem.readObj(buffers[0]!.addr + 2n, SPLIT_DESCRIPTOR)).toEqual({
      addr: 1n,
      len: 2,
      flags: 3,
      next: 4,
    });
  });

  it('moves exactly the bytes a reader and a writer are asked for, over any buffer split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 10 }),
        (lens, reads) => {
          const total = lens.reduce((a, b) => a + b, 0);
          const data = Uint8Array.from({ length: total }, (_, i) => (i * 7 + 3) & 0xff);
          const starts = lens.map((_, i) => lens.slice(0, i).reduce((a, b) => a + b, 0));
          const { chain } = chainOf(
            lens.map((len, i) => ({ data: data.subarray(starts[i], starts[i]! + len) })),
          );
          const r = chain.reader();
          let pos = 0;
          for (const n of reads) {
            const buf = new Uint8Array(n);
            const got = r.read(buf);
            expect(got).toBe(Math.min(n, total - pos));
            expect([...buf.subarray(0, got)]).toEqual([...data.subarray(pos, pos + got)]);
            pos += got;
            expect(r.availableBytes).toBe(total - pos);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
