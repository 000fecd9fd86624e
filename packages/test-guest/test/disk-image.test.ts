import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkPatternImage,
  fillPattern,
  findPatternMismatch,
  patternWord,
  writePatternImage,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'test-guest-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the disk pattern', () => {
  it('is the guest’s formula: ((offset / 4) ^ seed) * 0x9e3779b1 mod 2^32', () => {
    expect(patternWord(0, 0)).toBe(0);
    expect(patternWord(1, 0)).toBe(0x9e3779b1);
    expect(patternWord(0, 0x5eed)).toBe(Number((0x5eedn * 0x9e3779b1n) % 2n ** 32n));
    fc.assert(
      fc.property(fc.nat(2 ** 31), fc.nat(0xffff_ffff), (index, seed) => {
        const want = (BigInt((index ^ seed) >>> 0) * 0x9e3779b1n) % 2n ** 32n;
        expect(patternWord(index, seed)).toBe(Number(want));
      }),
    );
  });

  it('gives every word of a disk a different value (a misplaced block never verifies)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1 << 16; i++) seen.add(patternWord(i, 0x5eed));
    expect(seen.size).toBe(1 << 16);
  });

  it('fills and finds mismatches by disk offset', () => {
    const buf = new Uint8Array(4096);
    fillPattern(buf, 8192, 7);
    expect(findPatternMismatch(buf, 8192, 7)).toBe(-1);
    expect(findPatternMismatch(buf, 8196, 7)).toBe(8196);
    buf[100] = buf[100]! ^ 1;
    expect(findPatternMismatch(buf, 8192, 7)).toBe(8192 + 100);
  });

  it('writes images chunk by chunk that check out, and finds a changed word in them', () => {
    const path = join(dir, 'disk.img');
    const bytes = 3 * (1 << 20) + 512;
    writePatternImage(path, bytes, 0x5eed);
    const data = readFileSync(path);
    expect(data.length).toBe(bytes);
    expect(checkPatternImage(path, 0, bytes, 0x5eed)).toBe(-1);
    expect(checkPatternImage(path, 0, bytes, 0x5eee)).toBe(0); // another seed's image differs from word 0
    data.writeUInt32LE(0, 2 * (1 << 20) + 12);
    writeFileSync(path, data);
    expect(checkPatternImage(path, 1 << 20, 2 << 20, 0x5eed)).toBe(2 * (1 << 20) + 12);
    // Past the end of the file counts as a mismatch where the file ends.
    expect(checkPatternImage(path, bytes - 512, 1024, 0x5eed)).toBe(bytes);
  });

  it('refuses misaligned offsets, lengths and bad seeds', () => {
    expect(() => fillPattern(new Uint8Array(6), 0, 1)).toThrow(RangeError);
    expect(() => fillPattern(new Uint8Array(8), 2, 1)).toThrow(RangeError);
    expect(() => fillPattern(new Uint8Array(8), 0, -1)).toThrow(RangeError);
    expect(() => fillPattern(new Uint8Array(8), 0, 2 ** 32)).toThrow(RangeError);
    expect(() => writePatternImage(join(dir, 'x'), 100, 1)).toThrow(RangeError);
    expect(() => checkPatternImage(join(dir, 'x'), 0, 3, 1)).toThrow(RangeError);
  });
});
