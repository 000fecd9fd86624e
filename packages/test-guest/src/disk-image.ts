/**
 * Disk images the block workloads verify: the 32-bit little-endian word at
 * byte offset `o` holds `((o / 4) ^ seed) * 0x9e3779b1 mod 2^32`, the same
 * formula as the guest's pattern_word(). Every word of a disk is distinct,
 * so data read from the wrong place, or not written, never verifies.
 */
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

const GOLDEN = 0x9e3779b1;
const CHUNK = 1 << 20;

/** The pattern's word at word index `index` (byte offset / 4) for `seed`. */
export function patternWord(index: number, seed: number): number {
  return Math.imul((index ^ seed) >>> 0, GOLDEN) >>> 0;
}

function checkArgs(offset: number, length: number, seed: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % 4 !== 0)
    throw new RangeError(`offset must be a non-negative multiple of 4, got ${offset}`);
  if (!Number.isSafeInteger(length) || length < 0 || length % 4 !== 0)
    throw new RangeError(`length must be a non-negative multiple of 4, got ${length}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new RangeError(`seed must be a 32-bit unsigned integer, got ${seed}`);
}

/** Fills `buf` with the pattern as it appears at byte `offset` of a disk. */
export function fillPattern(buf: Uint8Array, offset: number, seed: number): void {
  checkArgs(offset, buf.length, seed);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const first = offset / 4;
  for (let i = 0; i < buf.length / 4; i++) view.setUint32(4 * i, patternWord(first + i, seed), true);
}

/** The byte offset (on the disk) of the first word of `buf` that is not the pattern, or -1. */
export function findPatternMismatch(buf: Uint8Array, offset: number, seed: number): number {
  checkArgs(offset, buf.length, seed);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const first = offset / 4;
  for (let i = 0; i < buf.length / 4; i++)
    if (view.getUint32(4 * i, true) !== patternWord(first + i, seed)) return offset + 4 * i;
  return -1;
}

/** Writes a raw image of `bytes` bytes (a multiple of 512) holding the pattern for `seed`. */
export function writePatternImage(path: string, bytes: number, seed: number): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % 512 !== 0)
    throw new RangeError(`bytes must be a positive multiple of 512, got ${bytes}`);
  checkArgs(0, 0, seed);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, bytes);
    const buf = new Uint8Array(CHUNK);
    for (let at = 0; at < bytes; at += CHUNK) {
      const piece = buf.subarray(0, Math.min(CHUNK, bytes - at));
      fillPattern(piece, at, seed);
      writeSync(fd, piece, 0, piece.length, at);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks `length` bytes of an image at `offset` against the pattern for
 * `seed`; returns the disk offset of the first wrong word, or -1.
 */
export function checkPatternImage(path: string, offset: number, length: number, seed: number): number {
  checkArgs(offset, length, seed);
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(CHUNK);
    for (let at = offset; at < offset + length; at += CHUNK) {
      const piece = buf.subarray(0, Math.min(CHUNK, offset + length - at));
      const n = readSync(fd, piece, 0, piece.length, at);
      if (n !== piece.length) return at + (n & ~3);
      const bad = findPatternMismatch(piece, at, seed);
      if (bad >= 0) return bad;
    }
    return -1;
  } finally {
    closeSync(fd);
  }
}
