import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type KvmRegs,
  type KvmSegment,
  kvm_cpuid2,
  kvm_regs,
  kvm_segment,
  kvm_sregs,
  kvm_xcrs,
} from '../src/index.js';
import { array, bytes, counted, i32, pad, struct, u8, u16, u32, u64 } from '../src/layout.js';

const u64s = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const segment: fc.Arbitrary<KvmSegment> = fc.record({
  base: u64s,
  limit: fc.nat({ max: 0xffff_ffff }),
  selector: fc.nat({ max: 0xffff }),
  type: fc.nat({ max: 15 }),
  present: fc.nat({ max: 1 }),
  dpl: fc.nat({ max: 3 }),
  db: fc.nat({ max: 1 }),
  s: fc.nat({ max: 1 }),
  l: fc.nat({ max: 1 }),
  g: fc.nat({ max: 1 }),
  avl: fc.nat({ max: 1 }),
  unusable: fc.nat({ max: 1 }),
});

describe('struct layouts read back what they write', () => {
  it('kvm_regs', () => {
    const regs = fc
      .record(Object.fromEntries(kvm_regs.fields.map((f) => [f.name, u64s])))
      .map((r) => ({ ...r }) as KvmRegs);
    fc.assert(
      fc.property(regs, (v) => {
        expect(kvm_regs.decode(kvm_regs.encode(v))).toEqual(v);
      }),
    );
  });

  it('kvm_sregs, with nested segments and tables', () => {
    fc.assert(
      fc.property(segment, segment, u64s, (cs, tr, cr3) => {
        const v = { ...kvm_sregs.zero(), cs, tr, cr3, gdt: { base: cr3, limit: 0x37 } };
        expect(kvm_sregs.decode(kvm_sregs.encode(v))).toEqual(v);
      }),
    );
  });

  it('counted arrays: the count is the array length, bounded by the buffer or the capacity', () => {
    const entry = { function: 7, index: 0, flags: 1, eax: 1, ebx: 2, ecx: 3, edx: 4 };
    const bytesOut = kvm_cpuid2.encode({ entries: [entry, entry] });
    expect(bytesOut.length).toBe(8 + 2 * 40);
    expect(new DataView(bytesOut.buffer).getUint32(0, true)).toBe(2); // nent
    expect(kvm_cpuid2.decode(bytesOut).entries).toEqual([entry, entry]);
    // A count larger than the bytes that follow is cut to what is there.
    new DataView(bytesOut.buffer).setUint32(0, 1000, true);
    expect(kvm_cpuid2.decode(bytesOut).entries).toHaveLength(2);
    // A fixed-capacity counted array (kvm_xcrs: 16 slots).
    const xcrs = { flags: 0, xcrs: [{ xcr: 0, value: 7n }] };
    expect(kvm_xcrs.byteLength(xcrs)).toBe(kvm_xcrs.size);
    expect(kvm_xcrs.decode(kvm_xcrs.encode(xcrs))).toEqual(xcrs);
    expect(() => kvm_xcrs.encode({ flags: 0, xcrs: Array(17).fill({ xcr: 0, value: 0n }) })).toThrow(
      RangeError,
    );
  });

  it('write pads as zeros and leave them out of values', () => {
    const seg = { ...kvm_segment.zero(), present: 1 };
    expect(Object.keys(seg)).not.toContain('padding');
    const out = kvm_segment.encode(seg);
    expect(out[kvm_segment.offsetOf('padding')]).toBe(0);
  });
});

describe('struct layouts check what they write', () => {
  const demo = struct('demo', 24, {
    a: [0, u8],
    b: [2, u16],
    c: [4, i32],
    d: [8, u64],
    e: [16, bytes(4)],
    f: [20, array(u8, 2)],
    g: [22, pad(2)],
  });
  const ok = { a: 1, b: 2, c: -3, d: 4n, e: new Uint8Array(4), f: [5, 6] };

  it('accepts values in range', () => {
    expect(demo.decode(demo.encode(ok))).toEqual(ok);
  });

  it.each([
    ['a', 256, RangeError],
    ['a', 1.5, TypeError],
    ['b', -1, RangeError],
    ['c', 2 ** 31, RangeError],
    ['d', 4, TypeError],
    ['d', 2n ** 64n, RangeError],
    ['e', new Uint8Array(3), RangeError],
    ['e', [0, 0, 0, 0], TypeError],
    ['f', [1], RangeError],
    ['f', 'ab', TypeError],
  ] as const)('throws for %s = %s', (key, value, kind) => {
    expect(() => demo.encode({ ...ok, [key]: value })).toThrow(kind);
  });

  it('names the member in the message', () => {
    expect(() => demo.encode({ ...ok, b: 70000 })).toThrow(/demo\.b/);
    expect(() => demo.encode(null as never)).toThrow(TypeError);
  });

  it('refuses short input and unknown members', () => {
    expect(() => demo.decode(new Uint8Array(23))).toThrow(RangeError);
    expect(() => demo.offsetOf('zz')).toThrow(RangeError);
    expect(() => demo.offsetOf('a.b')).toThrow(RangeError);
    expect(() => struct('bad', 4, { x: [2, u32] })).toThrow(/ends past/);
  });

  it('decodes any bytes without throwing', () => {
    const list = struct('list', 8, { n: [0, u32], items: [4, counted(u32, 'n')] });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 64 }), (raw) => {
        expect(() => demo.decode(raw)).not.toThrow();
        const v = list.decode(raw);
        expect(v.items.length).toBeLessThanOrEqual((raw.length - 4) / 4);
      }),
    );
  });
});
