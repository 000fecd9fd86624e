import { GuestMemoryArrayBuffer, VmMemoryError } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import { Descriptor, SPLIT_DESCRIPTOR, VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT } from '../src/index.js';
import { AccessBudgetExceeded, MockPackedQueue, RecordingMemory } from '../src/testing/index.js';

const inner = () => GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x1000 }]);

describe('RecordingMemory', () => {
  it('passes every GuestMemory call through and records writes', () => {
    const mem = new RecordingMemory(inner());
    const buf = new Uint8Array(4);
    mem.writeU8(0n, 1);
    mem.writeU16(2n, 2);
    mem.writeU32(4n, 3);
    mem.writeU64(8n, 4n);
    mem.storeU16(16n, 5);
    mem.storeU32(20n, 6);
    mem.storeU64(24n, 7n);
    mem.writeSlice(32n, Uint8Array.of(8, 9));
    expect(mem.write(0xffen, Uint8Array.of(1, 2, 3))).toBe(2);
    mem.fill(40n, 4, 0xff);
    mem.writeObj(48n, SPLIT_DESCRIPTOR, { addr: 1n, len: 2, flags: 3, next: 4 });
    mem.getWritableSlice(64n, 4)[0] = 10;
    mem.getSlices(68n, 4, true)[0]![0] = 11;
    expect([mem.readU8(0n), mem.readU16(2n), mem.readU32(4n), mem.readU64(8n)]).toEqual([1, 2, 3, 4n]);
    expect([mem.loadU16(16n), mem.loadU32(20n), mem.loadU64(24n)]).toEqual([5, 6, 7n]);
    mem.readSlice(40n, buf);
    expect([...buf]).toEqual([255, 255, 255, 255]);
    expect(mem.read(64n, buf)).toBe(4);
    expect(mem.readObj(48n, SPLIT_DESCRIPTOR)).toEqual({ addr: 1n, len: 2, flags: 3, next: 4 });
    expect([mem.getSlice(64n, 1)[0], mem.getSlices(68n, 1)[0]![0]]).toEqual([10, 11]);
    mem.markDirty(0n, 1);
    expect(mem.writes.map((w) => [w.addr, w.len])).toEqual([
      [0n, 1],
      [2n, 2],
      [4n, 4],
      [8n, 8],
      [16n, 2],
      [20n, 4],
      [24n, 8],
      [32n, 2],
      [0xffen, 1],
      [40n, 4],
      [48n, 16],
      [64n, 4],
      [68n, 4],
    ]);
    expect(mem.accesses).toBe(26); // 13 writes, 12 reads, 1 markDirty
    expect(mem.violations).toEqual([]);
    expect([mem.totalSize, mem.regions.length, mem.checkAddress(0xfffn), mem.checkRange(0xffen, 2)]).toEqual([
      0x1000,
      1,
      true,
      true,
    ]);
    expect(mem.findRegion(0n)?.size).toBe(0x1000);
    expect(mem.toRegionAddress(0x10n)?.offset).toBe(0x10);
  });

  it('notes accesses outside guest memory, which the memory still refuses', () => {
    const mem = new RecordingMemory(inner(), { recordWrites: false });
    expect(() => mem.readU32(0xffen)).toThrow(VmMemoryError);
    expect(() => mem.writeU8(0x1000n, 0)).toThrow(VmMemoryError);
    expect(mem.violations).toEqual([
      { addr: 0xffen, len: 4, write: false },
      { addr: 0x1000n, len: 1, write: true },
    ]);
    expect(mem.writes).toEqual([]);
  });

  it('stops code that does not terminate', () => {
    const mem = new RecordingMemory(inner(), { budget: 100 });
    expect(() => {
      for (;;) mem.readU8(0n);
    }).toThrow(AccessBudgetExceeded);
    expect(mem.accesses).toBe(101);
  });
});

describe('Descriptor', () => {
  it('reads its flags', () => {
    const d = new Descriptor(0x1000n as never, 4, VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT);
    expect([d.hasNext, d.isIndirect, d.isWriteOnly]).toEqual([true, true, false]);
  });
});

describe('MockPackedQueue', () => {
  it('tracks its position and wrap counter and allocates data', () => {
    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x40000 }]);
    const driver = new MockPackedQueue(mem, 2);
    expect([driver.nextAvail, driver.availWrapCounter]).toEqual([0, true]);
    driver.addChain([{ len: 1 }, { len: 1 }]);
    expect([driver.nextAvail, driver.availWrapCounter]).toEqual([0, false]);
    const a = driver.alloc(1);
    expect(driver.alloc(1) - a).toBe(16n);
  });
});
