/**
 * Hostile images: random and mutated ELF files and bzImages. Whatever the
 * bytes, the loader either loads them and writes only where the image's own
 * program headers (or setup header) say, or throws a LinuxLoaderError and
 * writes nothing. `pnpm fuzz` runs this with many more cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinuxLoaderError, loadBzImage, loadElf, loadKernel } from '../src/index.js';
import { buildBzImage } from './support/bzimage-builder.js';
import { buildElf, concat, elfNote, pattern, pvhNote, type TestSegment } from './support/elf-builder.js';
import { changedRuns, guestRam, MiB, readGuest, sameBytes, snapshot } from './support/memory.js';

const NUM_RUNS = Number(process.env.LINUX_LOADER_FUZZ_RUNS ?? 150);
/** Per-test time limit: a few milliseconds a case, generously. */
const TIMEOUT = Math.max(10_000, NUM_RUNS * 40);

/** Runs `load`; returns its result, or undefined after checking the error is a LinuxLoaderError. */
function attempt<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof LinuxLoaderError)) throw e;
    expect(e.message).not.toBe('');
    return undefined;
  }
}

/** PT_LOAD headers as the file states them (test-side reading of the ELF64 layout). */
function loadHeaders(image: Uint8Array) {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const phoff = Number(view.getBigUint64(32, true));
  const phnum = view.getUint16(56, true);
  const out = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * 56;
    if (view.getUint32(p, true) !== 1) continue;
    out.push({
      offset: Number(view.getBigUint64(p + 8, true)),
      paddr: view.getBigUint64(p + 24, true),
      filesz: Number(view.getBigUint64(p + 32, true)),
      memsz: view.getBigUint64(p + 40, true),
    });
  }
  return out;
}

const interestingAddress = fc.oneof(
  fc.constantFrom(
    0n,
    0x1000n,
    0xf000n,
    0xfff0n,
    0x10000n,
    0x20000n,
    0x2f000n,
    0x30000n,
    0xffff_ffff_ffff_f000n,
    1n << 63n,
  ),
  fc.bigInt({ min: 0n, max: 0x40000n }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const interestingSize = fc.oneof(
  fc.constantFrom(0n, 1n, 0x100n, 0x1000n, 0x10000n, 0xffff_ffff_ffff_ffffn, 1n << 63n),
  fc.bigInt({ min: 0n, max: 0x3000n }),
);

/** Mostly `valid`, sometimes anything `wild` produces. */
const mostly = <T>(valid: fc.Arbitrary<T>, wild: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: wild, weight: 1 });

/** A PT_LOAD that mostly fits the fuzz memory, with one field now and then replaced by a wild value. */
const segment: fc.Arbitrary<TestSegment> = fc
  .record({
    type: mostly(fc.constant(1), fc.constantFrom(4, 6, 0x6474e551)),
    paddr: mostly(
      fc.integer({ min: 0, max: 0x2f0 }).map((n) => BigInt(n) << 8n),
      interestingAddress,
    ),
    length: fc.integer({ min: 0, max: 0x800 }),
    bss: mostly(fc.integer({ min: 0, max: 0x800 }).map(BigInt), interestingSize),
    wild: mostly(
      fc.constant(null),
      fc.tuple(fc.constantFrom<'offset' | 'filesz' | 'memsz'>('offset', 'filesz', 'memsz'), interestingSize),
    ),
    align: fc.constantFrom(0n, 4n, 8n, 0x1000n),
  })
  .map(({ type, paddr, length, bss, wild, align }) => {
    const data = pattern(length, length + 1);
    const seg: TestSegment = { type, paddr, data, memsz: BigInt(length) + bss, align };
    if (wild !== null) seg[wild[0]] = wild[1];
    return seg;
  });

const noteSegment: fc.Arbitrary<TestSegment> = fc
  .oneof(
    fc.bigInt({ min: 0n, max: 0x40000n }).map((e) => pvhNote(e)),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((e) => pvhNote(e, 8)),
    fc.uint8Array({ maxLength: 64 }).map((d) => elfNote('Xen', 18, d)),
    fc
      .tuple(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 40 }))
      .map(([d, cut]) => concat(elfNote('GNU', 3, d), pvhNote(0x1000n)).subarray(0, cut)),
    fc.uint8Array({ maxLength: 48 }),
  )
  .map((data) => ({ type: 4, paddr: 0n, data }));

const memoryLayout = () =>
  guestRam([
    { start: 0n, size: 0x10000 },
    { start: 0x20000n, size: 0x10000 },
  ]);

function checkElfLoad(image: Uint8Array): void {
  const mem = memoryLayout();
  const before = snapshot(mem);
  const result = attempt(() => loadElf(mem, image));
  const changed = changedRuns(mem, before);
  if (result === undefined) {
    expect(changed).toEqual([]);
    return;
  }
  const loads = loadHeaders(image).filter((s) => s.memsz > 0n);
  const inSegment = (a: bigint) => loads.some((s) => a >= s.paddr && a < s.paddr + s.memsz);
  for (const [start, end] of changed) expect(inSegment(start) && inSegment(end - 1n)).toBe(true);
  for (const s of loads) {
    expect(mem.checkRange(s.paddr, Number(s.memsz))).toBe(true);
    expect(sameBytes(readGuest(mem, s.paddr, s.filesz), image.subarray(s.offset, s.offset + s.filesz))).toBe(
      true,
    );
  }
  expect(result.entry64).toBe(new DataView(image.buffer, image.byteOffset).getBigUint64(24, true));
}

describe('hostile ELF images', () => {
  it(
    'random program headers and notes: loaded as stated or refused without a write',
    () => {
      fc.assert(
        fc.property(
          fc.array(segment, { minLength: 1, maxLength: 3 }),
          mostly(fc.constant(null), noteSegment),
          mostly(fc.constant(null), interestingAddress),
          (segments, note, wildEntry) => {
            const entry = wildEntry ?? segments[0]!.paddr;
            checkElfLoad(buildElf({ entry, segments: note === null ? segments : [...segments, note] }));
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'byte mutations of a valid image: loaded as stated or refused without a write',
    () => {
      const valid = buildElf({
        entry: 0x1000n,
        segments: [
          { paddr: 0x1000n, data: pattern(0x300), memsz: 0x800n },
          { type: 4, paddr: 0n, data: concat(elfNote('GNU', 3, pattern(20)), pvhNote(0x1100n)) },
          { paddr: 0x20000n, data: pattern(0x100, 2) },
        ],
      });
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })),
            {
              minLength: 1,
              maxLength: 8,
            },
          ),
          fc.option(fc.integer({ min: 0, max: valid.length })),
          (writes, cut) => {
            const image = valid.slice(0, cut ?? valid.length);
            for (const [at, value] of writes) if (at < image.length) image[at] = value;
            checkElfLoad(image);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('hostile bzImages', () => {
  it(
    'random setup headers: loaded where they say or refused without a write',
    () => {
      const spec = fc.record({
        setupSects: mostly(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 255 })),
        bootFlag: mostly(fc.constant(0xaa55), fc.integer({ min: 0, max: 0xffff })),
        headerLength: mostly(fc.constant(0x6a), fc.integer({ min: 0, max: 255 })),
        version: mostly(fc.constantFrom(0x020c, 0x020f), fc.integer({ min: 0, max: 0xffff })),
        loadflags: mostly(fc.constant(1), fc.integer({ min: 0, max: 255 })),
        kernelAlignment: mostly(
          fc.constantFrom(0x1000, 0x200000),
          fc.oneof(fc.constantFrom(0, 1, 0x80000000), fc.nat()),
        ),
        relocatable: mostly(fc.constant(1), fc.constantFrom(0, 0xff)),
        xloadflags: mostly(fc.constantFrom(0x01, 0x03, 0x7f), fc.integer({ min: 0, max: 0xffff })),
        prefAddress: mostly(
          fc.constantFrom(0n, 0x100000n, 0x200000n),
          fc.oneof(fc.constant(0xffff_ffff_ffff_f000n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
        ),
        initSize: mostly(fc.integer({ min: 0, max: 0x200000 }), fc.oneof(fc.constant(0xffff_ffff), fc.nat())),
        syssize: mostly(fc.constant(0x300), fc.nat()),
        truncate: mostly(fc.constant(undefined), fc.integer({ min: 0, max: 0x5000 })),
      });
      const loadAddress = fc.option(
        fc.oneof(
          fc.constantFrom(0x100000n, 0x200000n, 0x3ff000n, 0xffff_f000n, 0x1_0000_0000n),
          fc.bigInt({ min: 0n, max: 1n << 40n }).map((a) => a & ~0xfffn),
        ),
      );
      fc.assert(
        fc.property(spec, loadAddress, (s, load) => {
          const { truncate, ...fields } = s;
          const image = buildBzImage({
            ...fields,
            ...(truncate === undefined ? {} : { truncate }),
            kernel: pattern(0x3000, 4),
          });
          const mem = guestRam([{ start: 0n, size: 4 * MiB }]);
          const before = snapshot(mem);
          const result = attempt(() => loadBzImage(mem, image, load === null ? {} : { loadAddress: load }));
          const changed = changedRuns(mem, before);
          if (result === undefined) {
            expect(changed).toEqual([]);
            return;
          }
          const setupSize = ((image[0x1f1] || 4) + 1) * 512;
          const at = load ?? 0x100000n;
          expect(result.entry64).toBe(at + 0x200n);
          expect(result.loadedRange).toEqual({ start: at, end: at + BigInt(image.length - setupSize) });
          for (const [start, end] of changed) expect(start >= at && end <= result.loadedRange.end).toBe(true);
          expect(sameBytes(readGuest(mem, at, image.length - setupSize), image.subarray(setupSize))).toBe(
            true,
          );
          const { start, end } = result.kernelRange;
          expect(start <= at && end >= result.loadedRange.end).toBe(true);
          expect(mem.checkRange(start, Number(end - start))).toBe(true);
        }),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'random bytes are refused with a LinuxLoaderError',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 0x1200 }), (bytes) => {
          const mem = guestRam([{ start: 0n, size: 0x40000 }]);
          const before = snapshot(mem);
          attempt(() => loadKernel(mem, bytes));
          expect(changedRuns(mem, before)).toEqual([]);
        }),
        { numRuns: NUM_RUNS },
      );
    },
    TIMEOUT,
  );
});
