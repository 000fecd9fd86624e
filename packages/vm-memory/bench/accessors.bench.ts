/**
 * The accessors on a device's hot path, each next to its baseline: the raw
 * typed-array or Atomics operation on the same mapping, without address
 * translation or bounds checks. The gap is the price of checking guest
 * addresses. 1000 accesses per iteration.
 */
import { bench, describe } from 'vitest';
import { GuestMemoryMmap } from '../src/index.js';

const mem = GuestMemoryMmap.fromRanges([
  { start: 0n, size: 0x10_0000 },
  { start: 0x1_0000_0000n, size: 0x10_0000 },
]);
const tracked = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x10_0000 }], { dirtyTracking: true });
const raw32 = new Uint32Array(mem.regions[1]!.buffer);
const raw16 = new Uint16Array(mem.regions[1]!.buffer);
const raw8 = new Uint8Array(mem.regions[1]!.buffer);
const BASE = 0x1_0000_0000n;
const addrs = Array.from({ length: 1000 }, (_, i) => BASE + BigInt(i * 64));
const page = new Uint8Array(4096);
let sink = 0;

describe('readU32, aligned', () => {
  bench('GuestMemoryMmap.readU32', () => {
    for (let i = 0; i < 1000; i++) sink += mem.readU32(addrs[i]!);
  });
  bench('baseline: Uint32Array index', () => {
    for (let i = 0; i < 1000; i++) sink += raw32[i * 16]!;
  });
});

describe('writeU32, aligned', () => {
  bench('GuestMemoryMmap.writeU32', () => {
    for (let i = 0; i < 1000; i++) mem.writeU32(addrs[i]!, i);
  });
  bench('GuestMemoryMmap.writeU32 with dirty tracking', () => {
    for (let i = 0; i < 1000; i++) tracked.writeU32(BigInt(i * 64), i);
  });
  bench('baseline: Uint32Array store', () => {
    for (let i = 0; i < 1000; i++) raw32[i * 16] = i;
  });
});

describe('atomic u16 (virtqueue index)', () => {
  bench('loadU16 + storeU16', () => {
    for (let i = 0; i < 1000; i++) mem.storeU16(addrs[i]!, (mem.loadU16(addrs[i]!) + 1) & 0xffff);
  });
  bench('baseline: Atomics.load + Atomics.store', () => {
    for (let i = 0; i < 1000; i++) Atomics.store(raw16, i * 32, (Atomics.load(raw16, i * 32) + 1) & 0xffff);
  });
});

describe('4 KiB copies', () => {
  bench('readSlice 4 KiB', () => {
    for (let i = 0; i < 100; i++) mem.readSlice(BASE + BigInt(i * 4096), page);
  });
  bench('baseline: Uint8Array.set from subarray', () => {
    for (let i = 0; i < 100; i++) page.set(raw8.subarray(i * 4096, i * 4096 + 4096));
  });
});

describe('address arithmetic', () => {
  bench('readU32 at base + 16n * BigInt(i)', () => {
    for (let i = 0; i < 1000; i++) sink += mem.readU32(BASE + 16n * BigInt(i));
  });
});

export { sink };
