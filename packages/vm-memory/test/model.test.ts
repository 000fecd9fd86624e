/**
 * Model-based property test: random region layouts (adjacent regions, gaps,
 * odd sizes) and random accesses, each checked against a byte-by-byte model
 * of what guest memory must contain and which accesses must fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestMemoryArrayBuffer, VmMemoryError } from '../src/index.js';

/** Cases per run: a share in the ordinary suite, more under `pnpm fuzz`. */
const NUM_RUNS = Number(process.env.VM_MEMORY_FUZZ_RUNS ?? 300);

/** Sorted non-overlapping ranges with 8-aligned starts, some adjacent, some with gaps. */
const layoutArb = fc
  .array(fc.record({ gap: fc.constantFrom(0, 0, 8, 64, 4096), size: fc.integer({ min: 1, max: 200 }) }), {
    minLength: 1,
    maxLength: 5,
  })
  .map((parts) => {
    const ranges: { start: bigint; size: number }[] = [];
    let at = 64;
    for (const { gap, size } of parts) {
      const start = Math.ceil((at + gap) / 8) * 8;
      ranges.push({ start: BigInt(start), size: size * 8 });
      at = start + size * 8;
    }
    return ranges;
  });

type Op =
  | { kind: 'write'; at: number; bytes: Uint8Array; exact: boolean }
  | { kind: 'read'; at: number; length: number; exact: boolean }
  | { kind: 'num'; at: number; size: 1 | 2 | 4 | 8; value: bigint }
  | { kind: 'fill'; at: number; length: number; value: number };

function opArb(limit: number): fc.Arbitrary<Op> {
  const at = fc.integer({ min: 0, max: limit });
  return fc.oneof(
    fc.record({
      kind: fc.constant('write' as const),
      at,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }),
      exact: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('read' as const),
      at,
      length: fc.integer({ min: 1, max: 300 }),
      exact: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('num' as const),
      at,
      size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
    fc.record({
      kind: fc.constant('fill' as const),
      at,
      length: fc.integer({ min: 1, max: 300 }),
      value: fc.integer({ min: 0, max: 255 }),
    }),
  );
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof VmMemoryError) return err.code;
    throw err;
  }
}

describe('GuestMemory against a byte model', () => {
  it(
    'transfers exactly the backed bytes and fails exactly where the model says',
    () => {
      fc.assert(
        fc.property(
          layoutArb.chain((ranges) => {
            const last = ranges.at(-1)!;
            return fc.tuple(
              fc.constant(ranges),
              fc.array(opArb(Number(last.start) + last.size + 64), { maxLength: 40 }),
            );
          }),
          ([ranges, ops]) => {
            const mem = GuestMemoryArrayBuffer.fromRanges(ranges);
            const model = new Map<number, number>(); // backed address → byte
            for (const r of ranges) for (let i = 0; i < r.size; i++) model.set(Number(r.start) + i, 0);
            const backedRun = (at: number, n: number) => {
              let k = 0;
              while (k < n && model.has(at + k)) k++;
              return k;
            };
            const expectedCode = (at: number, n: number) => {
              const k = backedRun(at, n);
              return k === n ? 'ok' : k === 0 ? 'INVALID_ADDRESS' : 'PARTIAL_BUFFER';
            };
            for (const op of ops) {
              const addr = BigInt(op.at);
              if (op.kind === 'write') {
                const n = op.bytes.length;
                const k = backedRun(op.at, n);
                if (op.exact) {
                  expect(codeOf(() => mem.writeSlice(addr, op.bytes))).toBe(expectedCode(op.at, n));
                  if (k === n) for (let i = 0; i < n; i++) model.set(op.at + i, op.bytes[i]!);
                } else if (k === 0) {
                  expect(codeOf(() => mem.write(addr, op.bytes))).toBe('INVALID_ADDRESS');
                } else {
                  expect(mem.write(addr, op.bytes)).toBe(k);
                  for (let i = 0; i < k; i++) model.set(op.at + i, op.bytes[i]!);
                }
              } else if (op.kind === 'read') {
                const buf = new Uint8Array(op.length);
                const k = backedRun(op.at, op.length);
                if (op.exact) {
                  expect(codeOf(() => mem.readSlice(addr, buf))).toBe(expectedCode(op.at, op.length));
                  if (k < op.length) expect(buf.every((b) => b === 0)).toBe(true);
                } else if (k === 0) {
                  expect(codeOf(() => mem.read(addr, buf))).toBe('INVALID_ADDRESS');
                } else {
                  expect(mem.read(addr, buf)).toBe(k);
                }
                const want = Array.from({ length: op.exact && k < op.length ? 0 : k }, (_, i) =>
                  model.get(op.at + i),
                );
                expect([...buf.subarray(0, want.length)]).toEqual(want);
              } else if (op.kind === 'fill') {
                expect(codeOf(() => mem.fill(addr, op.length, op.value))).toBe(
                  expectedCode(op.at, op.length),
                );
                if (backedRun(op.at, op.length) === op.length) {
                  for (let i = 0; i < op.length; i++) model.set(op.at + i, op.value);
                }
              } else {
                const value = op.value & ((1n << BigInt(op.size * 8)) - 1n);
                const want = expectedCode(op.at, op.size);
                const write = () => {
                  if (op.size === 1) mem.writeU8(addr, Number(value));
                  else if (op.size === 2) mem.writeU16(addr, Number(value));
                  else if (op.size === 4) mem.writeU32(addr, Number(value));
                  else mem.writeU64(addr, value);
                };
                expect(codeOf(write)).toBe(want);
                if (want === 'ok') {
                  for (let i = 0; i < op.size; i++)
                    model.set(op.at + i, Number((value >> BigInt(8 * i)) & 0xffn));
                  const read =
                    op.size === 1
                      ? BigInt(mem.readU8(addr))
                      : op.size === 2
                        ? BigInt(mem.readU16(addr))
                        : op.size === 4
                          ? BigInt(mem.readU32(addr))
                          : mem.readU64(addr);
                  expect(read).toBe(value);
                  expect(mem.checkRange(addr, op.size)).toBe(true);
                } else {
                  expect(mem.checkRange(addr, op.size)).toBe(false);
                }
              }
            }
            // Finally every backed byte matches the model.
            for (const r of ranges) {
              const got = new Uint8Array(r.size);
              mem.readSlice(r.start, got);
              const want = Uint8Array.from({ length: r.size }, (_, i) => model.get(Number(r.start) + i)!);
              expect(Buffer.compare(got, want)).toBe(0);
            }
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
    Math.max(10_000, NUM_RUNS * 5),
  );
});
