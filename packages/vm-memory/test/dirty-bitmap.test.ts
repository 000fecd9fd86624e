import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIRTY_PAGE_SIZE, DirtyBitmap } from '../src/index.js';

describe('DirtyBitmap', () => {
  it('marks exactly the pages a range touches, across word boundaries', () => {
    const size = 300 * DIRTY_PAGE_SIZE + 123;
    fc.assert(
      fc.property(
        fc.array(
          fc
            .integer({ min: 0, max: size - 1 })
            .chain((offset) =>
              fc.tuple(
                fc.constant(offset),
                fc.integer({ min: 0, max: Math.min(size - offset, 80 * DIRTY_PAGE_SIZE) }),
              ),
            ),
          { maxLength: 12 },
        ),
        (ranges) => {
          const bitmap = new DirtyBitmap(size);
          const want = new Set<number>();
          for (const [offset, length] of ranges) {
            bitmap.mark(offset, length);
            if (length === 0) continue;
            for (let p = Math.floor(offset / 4096); p <= Math.floor((offset + length - 1) / 4096); p++)
              want.add(p);
          }
          for (let p = 0; p < bitmap.pages; p++) expect(bitmap.isDirty(p * 4096)).toBe(want.has(p));
          expect(DirtyBitmap.pagesOf(bitmap.readAndReset())).toEqual([...want].sort((a, b) => a - b));
          expect(DirtyBitmap.pagesOf(bitmap.readAndReset())).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sizes its words for the region and honours a custom page size', () => {
    const bitmap = new DirtyBitmap(65 * 512, { pageSize: 512 });
    expect([bitmap.pageSize, bitmap.pages, bitmap.words.length]).toEqual([512, 65, 3]);
    bitmap.mark(64 * 512, 1);
    expect(bitmap.words[2]).toBe(1);
    expect(bitmap.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('shares an existing buffer, so that two threads mark one bitmap', () => {
    const a = new DirtyBitmap(0x10000);
    const b = new DirtyBitmap(0x10000, { buffer: a.buffer });
    b.mark(0x3000, 1);
    expect(a.isDirty(0x3000)).toBe(true);
  });

  it('rejects bad sizes, page sizes and buffers', () => {
    expect(() => new DirtyBitmap(0)).toThrow(RangeError);
    expect(() => new DirtyBitmap(1.5)).toThrow(RangeError);
    expect(() => new DirtyBitmap(4096, { pageSize: 3 })).toThrow(RangeError);
    expect(() => new DirtyBitmap(4096, { pageSize: 0 })).toThrow(RangeError);
    expect(() => new DirtyBitmap(4096, { buffer: new SharedArrayBuffer(8) })).toThrow(RangeError);
    expect(
      () => new DirtyBitmap(4096, { buffer: new ArrayBuffer(4) as unknown as SharedArrayBuffer }),
    ).toThrow(RangeError);
  });
});
