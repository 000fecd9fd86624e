import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AddressRange,
  initrdAddressLimit,
  loadBzImage,
  loadElf,
  loadInitrd,
  placeInitrd,
} from '../src/index.js';
import { buildBzImage } from './support/bzimage-builder.js';
import { buildElf, pattern } from './support/elf-builder.js';
import { codeOf } from './support/errors.js';
import { scratchDir } from './support/images.js';
import { changedRuns, guestRam, MiB, readGuest, sameBytes, snapshot } from './support/memory.js';

describe('loadInitrd', () => {
  it('puts the initrd page-aligned at the top of RAM', () => {
    const mem = guestRam([{ start: 0n, size: 64 * MiB }]);
    const before = snapshot(mem);
    const data = pattern(0x12345, 5);
    const initrd = loadInitrd(mem, data);
    expect(initrd).toEqual({ address: (64n * 1024n * 1024n - 0x12345n) & ~0xfffn, size: 0x12345 });
    expect(readGuest(mem, initrd.address, data.length)).toEqual(data);
    expect(
      changedRuns(mem, before).every(([s, e]) => s >= initrd.address && e <= initrd.address + 0x12345n),
    ).toBe(true);
  });

  it('stays below the highest address and outside the ranges to avoid', () => {
    const mem = guestRam([{ start: 0n, size: 64 * MiB }]);
    const kernelRange = { start: 0x100000n, end: 0x3000000n };
    expect(loadInitrd(mem, pattern(0x2000), { highestAddress: 0x1ffffffn }).address).toBe(0x1ffe000n);
    expect(loadInitrd(mem, pattern(0x2000), { highestAddress: 0x1fffffen }).address).toBe(0x1ffd000n);
    expect(
      loadInitrd(mem, pattern(0x2000), {
        highestAddress: 0x1ffffffn,
        avoid: [kernelRange, { start: 0x3000n, end: 0x100000n }],
      }).address,
    ).toBe(0x1000n);
    expect(loadInitrd(mem, pattern(0x1000), { alignment: 0x200000 }).address).toBe(0x3e00000n);
  });

  it('picks the highest region that fits, across gaps and adjacent regions', () => {
    const mem = guestRam([
      { start: 0n, size: 0x100000 },
      { start: 0x200000n, size: 0x100000 },
      { start: 0x300000n, size: 0x100000 },
      { start: 0x800000n, size: 0x1000 },
    ]);
    expect(loadInitrd(mem, pattern(0x2000)).address).toBe(0x3fe000n);
    // 0x180000 bytes only fit across the two adjacent regions
    expect(loadInitrd(mem, pattern(0x180000)).address).toBe(0x280000n);
    expect(loadInitrd(mem, pattern(0x800)).address).toBe(0x800000n);
  });

  it('reads files straight into guest memory, by descriptor or path', () => {
    const path = join(scratchDir(), 'initramfs.cpio');
    const data = pattern(3 * MiB + 17, 9);
    writeFileSync(path, data);
    const mem = guestRam([{ start: 0n, size: 16 * MiB }]);
    const a = loadInitrd(mem, path);
    expect(sameBytes(readGuest(mem, a.address, data.length), data)).toBe(true);
    const fd = openSync(path, 'r');
    try {
      const b = loadInitrd(mem, fd, { avoid: [{ start: a.address, end: a.address + BigInt(a.size) }] });
      expect(b.address + BigInt(b.size)).toBeLessThanOrEqual(a.address);
      expect(sameBytes(readGuest(mem, b.address, data.length), data)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('refuses an initrd that fits nowhere, writing nothing', () => {
    const mem = guestRam([{ start: 0n, size: MiB }]);
    const before = snapshot(mem);
    expect(codeOf(() => loadInitrd(mem, pattern(MiB + 1)))).toBe('INITRD_NO_SPACE');
    expect(codeOf(() => loadInitrd(mem, pattern(0x2000), { highestAddress: 0x1000n }))).toBe(
      'INITRD_NO_SPACE',
    );
    expect(codeOf(() => loadInitrd(mem, pattern(0x2000), { avoid: [{ start: 0n, end: 0xff000n }] }))).toBe(
      'INITRD_NO_SPACE',
    );
    expect(changedRuns(mem, before)).toEqual([]);
  });

  it('rejects bad arguments', () => {
    const mem = guestRam([{ start: 0n, size: MiB }]);
    expect(() => loadInitrd(mem, new Uint8Array(0))).toThrow(RangeError);
    expect(() => loadInitrd(mem, pattern(16), { alignment: 3 })).toThrow(RangeError);
    expect(() => loadInitrd(mem, pattern(16), { highestAddress: -1n })).toThrow(RangeError);
    expect(() =>
      loadInitrd(mem, pattern(16), { avoid: [{ start: 0, end: 1 } as unknown as AddressRange] }),
    ).toThrow(TypeError);
  });

  it('places like a brute-force search over every aligned address', () => {
    const page = 0x1000;
    const layout = fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 16 })), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        layout,
        fc.integer({ min: 1, max: 20 * page }),
        fc.option(fc.integer({ min: 0, max: 80 * page })),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 80 * page }), fc.integer({ min: 1, max: 8 * page })), {
          maxLength: 3,
        }),
        (regions, size, highest, avoidRaw) => {
          // Non-overlapping regions in pages, some adjacent.
          const ranges: Array<{ start: bigint; size: number }> = [];
          let floor = 0;
          for (const [gap, pages] of regions) {
            const start = floor + (gap % 4) * page;
            ranges.push({ start: BigInt(start), size: pages * page });
            floor = start + pages * page;
          }
          const mem = guestRam(ranges, 0);
          const avoid = avoidRaw.map(([s, l]) => ({ start: BigInt(s), end: BigInt(s + l) }));
          const options = { avoid, ...(highest === null ? {} : { highestAddress: BigInt(highest) }) };
          const fits = (a: number) =>
            mem.checkRange(BigInt(a), size) &&
            (highest === null || a + size - 1 <= highest) &&
            avoid.every((r) => BigInt(a + size) <= r.start || BigInt(a) >= r.end);
          let expected: number | undefined;
          for (let a = floor; a >= 0; a -= page) {
            if (fits(a)) {
              expected = a;
              break;
            }
          }
          if (expected === undefined)
            expect(codeOf(() => placeInitrd(mem, size, options))).toBe('INITRD_NO_SPACE');
          else expect(placeInitrd(mem, size, options)).toBe(BigInt(expected));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('initrdAddressLimit', () => {
  it('is initrd_addr_max unless the kernel takes an initrd above 4 GiB', () => {
    const mem = guestRam([{ start: 0n, size: 32 * MiB }]);
    expect(
      initrdAddressLimit(loadBzImage(mem, buildBzImage({ xloadflags: 0x01, initrdAddrMax: 0x37ffffff }))),
    ).toBe(0x37ffffffn);
    expect(initrdAddressLimit(loadBzImage(mem, buildBzImage({ xloadflags: 0x03 })))).toBeUndefined();
    const elf = buildElf({ entry: 0x1000n, segments: [{ paddr: 0x1000n, data: pattern(16) }] });
    expect(initrdAddressLimit(loadElf(mem, elf))).toBeUndefined();
  });
});
