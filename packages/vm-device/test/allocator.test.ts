import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressAllocator, IdAllocator, MmioRange, VmDeviceError } from '../src/index.js';

// `pnpm fuzz` runs many more cases.
fc.configureGlobal({ numRuns: Number(process.env.VM_DEVICE_FUZZ_RUNS ?? 200) });

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof VmDeviceError ? e.code : `not a VmDeviceError: ${e}`;
  }
  return undefined;
};

describe('AddressAllocator', () => {
  it('places first fit, last fit and exact, honouring alignment', () => {
    const a = new AddressAllocator(0x1000n, 0x10000n);
    expect(a.allocate(0x100n, 0x1000n).toString()).toBe('0x1000..0x10ff');
    expect(a.allocate(0x100n, 0x1000n, 'first-fit').toString()).toBe('0x2000..0x20ff');
    expect(a.allocate(0x100n, 0x10n, 'last-fit').toString()).toBe('0x10f00..0x10fff');
    expect(a.allocate(0x100n, 0x100n, 'last-fit').toString()).toBe('0x10e00..0x10eff');
    expect(a.allocate(0x10n, 1n, { exact: 0x1100n }).toString()).toBe('0x1100..0x110f');
    expect(a.allocate(0x3n, 4n).toString()).toBe('0x1110..0x1112');
    expect(a.freeRanges().map(String)).toEqual(['0x1113..0x1fff', '0x2100..0x10dff']);
  });

  it('coalesces freed blocks so the window can be allocated whole again', () => {
    const a = new AddressAllocator(0n, 0x3000n);
    const x = a.allocate(0x1000n);
    const y = a.allocate(0x1000n);
    const z = a.allocate(0x1000n);
    expect(code(() => a.allocate(1n))).toBe('OUT_OF_SPACE');
    a.free(x);
    a.free(z);
    a.free(new MmioRange(y.base, y.size));
    expect(a.freeRanges().map(String)).toEqual(['0x0..0x2fff']);
    expect(a.allocate(0x3000n, 1n, 'last-fit').toString()).toBe('0x0..0x2fff');
  });

  it('names each failure', () => {
    const a = new AddressAllocator(0x1000n, 0x1000n);
    a.allocate(0x100n, 1n, { exact: 0x1800n });
    expect(code(() => a.allocate(0x2000n))).toBe('OUT_OF_SPACE');
    expect(code(() => a.allocate(0x10n, 1n, { exact: 0x17f8n }))).toBe('OVERLAP');
    expect(code(() => a.allocate(0x10n, 1n, { exact: 0xff0n }))).toBe('OUT_OF_SPACE');
    expect(code(() => a.allocate(0x10n, 1n, { exact: 0x1ff8n }))).toBe('OUT_OF_SPACE');
    expect(code(() => a.free(new MmioRange(0x1800n, 0x10n)))).toBe('NOT_REGISTERED');
    expect(code(() => a.free(new MmioRange(0x1000n, 0x10n)))).toBe('NOT_REGISTERED');
    expect(() => a.allocate(0n)).toThrow(RangeError);
    expect(() => a.allocate(16n, 3n)).toThrow(RangeError);
    expect(() => a.allocate(16n, 0n)).toThrow(RangeError);
    expect(() => a.allocate(16n, 16n, { exact: 0x1008n })).toThrow(RangeError);
    expect(() => a.allocate(16 as never)).toThrow(TypeError);
    expect(() => a.allocate(16n, 1n, 'best-fit' as never)).toThrow(TypeError);
    expect(() => new AddressAllocator(0n, 0n)).toThrow(RangeError);
  });

  it('never hands out overlapping, misaligned or out-of-window ranges, and frees restore the space', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('alloc' as const),
        size: fc.bigInt({ min: 1n, max: 0x3000n }),
        alignLog: fc.integer({ min: 0, max: 12 }),
        policy: fc.oneof(
          fc.constantFrom('first-fit' as const, 'last-fit' as const),
          fc.record({ exact: fc.bigInt({ min: 0n, max: 0x12000n }) }),
        ),
      }),
      fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const a = new AddressAllocator(0x1000n, 0x10000n);
        const live: MmioRange[] = [];
        for (const o of ops) {
          if (o.kind === 'free') {
            if (live.length > 0) a.free(live.splice(o.pick % live.length, 1)[0]!);
            continue;
          }
          const align = 1n << BigInt(o.alignLog);
          if (typeof o.policy === 'object' && o.policy.exact % align !== 0n) continue;
          let r: MmioRange;
          try {
            r = a.allocate(o.size, align, o.policy);
          } catch (e) {
            expect(e).toBeInstanceOf(VmDeviceError);
            if (typeof o.policy === 'string') {
              // A placement policy fails only when no free block holds an aligned range of that size.
              const fits = a
                .freeRanges()
                .some((f) => ((f.base + align - 1n) / align) * align + o.size - 1n <= f.last);
              expect(fits).toBe(false);
            }
            continue;
          }
          expect(r.size).toBe(o.size);
          expect(r.base % align).toBe(0n);
          expect(r.base >= 0x1000n && r.last <= 0x10fffn).toBe(true);
          expect(live.some((l) => l.overlaps(r))).toBe(false);
          if (typeof o.policy === 'object') expect(r.base).toBe(o.policy.exact);
          live.push(r);
        }
        for (const r of live) a.free(r);
        expect(a.freeRanges().map(String)).toEqual(['0x1000..0x10fff']);
      }),
    );
  });
});

describe('IdAllocator', () => {
  it('hands out the lowest, the highest or an exact id, and reuses freed ones', () => {
    const irqs = new IdAllocator(5, 23);
    expect(irqs.allocate()).toBe(5);
    expect(irqs.allocate('first-fit')).toBe(6);
    expect(irqs.allocate('last-fit')).toBe(23);
    expect(irqs.allocate({ exact: 10 })).toBe(10);
    expect(irqs.isAllocated(10)).toBe(true);
    irqs.free(5);
    expect(irqs.isAllocated(5)).toBe(false);
    expect(irqs.allocate()).toBe(5);
  });

  it('names each failure', () => {
    const ids = new IdAllocator(0, 1);
    ids.allocate();
    expect(code(() => ids.allocate({ exact: 0 }))).toBe('OVERLAP');
    expect(code(() => ids.allocate({ exact: 2 }))).toBe('OUT_OF_SPACE');
    expect(code(() => ids.allocate({ exact: 0.5 }))).toBe('OUT_OF_SPACE');
    ids.allocate('last-fit');
    expect(code(() => ids.allocate())).toBe('OUT_OF_SPACE');
    expect(code(() => ids.allocate('last-fit'))).toBe('OUT_OF_SPACE');
    expect(code(() => ids.free(7))).toBe('NOT_REGISTERED');
    expect(() => new IdAllocator(3, 2)).toThrow(RangeError);
    expect(() => new IdAllocator(-1, 2)).toThrow(RangeError);
    expect(() => new IdAllocator(0, 2 ** 32)).toThrow(RangeError);
    expect(() => new IdAllocator(0.5, 2)).toThrow(TypeError);
    expect(() => ids.allocate({} as never)).toThrow(TypeError);
  });
});
