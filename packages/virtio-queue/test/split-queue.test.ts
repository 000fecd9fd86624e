import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import {
  Queue,
  VIRTQ_MAX_SIZE,
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_USED_F_NO_NOTIFY,
} from '../src/index.js';
import { MockSplitQueue } from '../src/testing/index.js';
import { codeOf, errorOf, testMemory, text } from './helpers.js';

function setup(size = 16, eventIdx = false) {
  const mem = testMemory();
  const driver = new MockSplitQueue(mem, size, { eventIdx });
  return { mem, driver, queue: driver.createQueue() };
}

describe('Queue configuration', () => {
  it('offers a power-of-two maximum size up to 32768', () => {
    for (const bad of [0, 3, 100, VIRTQ_MAX_SIZE * 2, 1.5]) expect(() => new Queue(bad)).toThrow(RangeError);
    const q = new Queue(256);
    expect([q.maxSize, q.size, q.ready, q.eventIdx, q.nextAvail, q.nextUsed]).toEqual([
      256,
      256,
      false,
      false,
      0,
      0,
    ]);
  });

  it("assembles area addresses from the transport's 32-bit halves", () => {
    const q = new Queue(16);
    q.setDescTableAddress(0x1000, 0x2);
    q.setDescTableAddress(0x3000);
    q.setAvailRingAddress(undefined, 1);
    q.setUsedRingAddress(0xffff_fffc, 0);
    expect([q.descTable, q.availRing, q.usedRing]).toEqual([0x2_0000_3000n, 0x1_0000_0000n, 0xffff_fffcn]);
    expect(() => q.setDescTableAddress(-1)).toThrow(RangeError);
    expect(() => q.setUsedRingAddress(0, 2 ** 32)).toThrow(RangeError);
    expect(() => q.setSize(-1)).toThrow(RangeError);
  });

  it('accepts a ready queue whose rings lie aligned in guest memory', () => {
    const { mem, queue } = setup();
    queue.validate(mem);
    expect(queue.isValid(mem)).toBe(true);
  });

  it('rejects each invalid configuration with its code', () => {
    const { mem, queue } = setup();
    const check = (mutate: (q: Queue) => void) => {
      const q = new MockSplitQueue(mem, 16).createQueue();
      mutate(q);
      expect(q.isValid(mem)).toBe(false);
      return codeOf(() => q.validate(mem));
    };
    expect(check((q) => q.setReady(false))).toBe('QUEUE_NOT_READY');
    expect(check((q) => q.setSize(0))).toBe('INVALID_SIZE');
    expect(check((q) => q.setSize(32))).toBe('INVALID_SIZE');
    expect(check((q) => q.setSize(12))).toBe('INVALID_SIZE');
    expect(check((q) => q.setDescTableAddress(0x1008))).toBe('MISALIGNED_AREA');
    expect(check((q) => q.setAvailRingAddress(0x2001))).toBe('MISALIGNED_AREA');
    expect(check((q) => q.setUsedRingAddress(0x3002))).toBe('MISALIGNED_AREA');
    expect(check((q) => q.setDescTableAddress(0xf_ff10))).toBe('AREA_OUT_OF_MEMORY'); // 256 bytes run past 1 MiB
    expect(check((q) => q.setAvailRingAddress(0x20_0000))).toBe('AREA_OUT_OF_MEMORY');
    expect(check((q) => q.setUsedRingAddress(0x100_fff0))).toBe('AREA_OUT_OF_MEMORY');
    expect(check((q) => q.setUsedRingAddress(0, 0xffff_ffff))).toBe('AREA_OUT_OF_MEMORY');
    expect(queue.isValid(mem)).toBe(true);
  });

  it('resets to the state after construction', () => {
    const { mem, driver, queue } = setup();
    driver.addChain([{ data: text('x') }]);
    queue.popDescriptorChain(mem);
    queue.setEventIdx(true);
    queue.reset();
    expect([queue.size, queue.ready, queue.descTable, queue.nextAvail, queue.eventIdx]).toEqual([
      16,
      false,
      0n,
      0,
      false,
    ]);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('QUEUE_NOT_READY');
  });

  it('restores saved ring positions and rejects non-u16 ones', () => {
    const q = new Queue(16);
    q.setNextAvail(0xfffe);
    q.setNextUsed(7);
    expect([q.nextAvail, q.nextUsed]).toEqual([0xfffe, 7]);
    expect(() => q.setNextAvail(0x10000)).toThrow(RangeError);
    expect(() => q.setNextUsed(-1)).toThrow(RangeError);
  });
});

describe('Queue chains', () => {
  it('pops a chain, reads its request, writes its reply and returns it as used', () => {
    const { mem, driver, queue } = setup();
    const { head, buffers } = driver.addChain([
      { data: text('hello ') },
      { data: text('world') },
      { len: 8, write: true },
    ]);
    const chain = queue.popDescriptorChain(mem)!;
    expect(chain.headIndex).toBe(head);
    expect(chain.descriptors.map((d) => [d.len, d.isWriteOnly])).toEqual([
      [6, false],
      [5, false],
      [8, true],
    ]);
    expect([chain.readableLength, chain.writableLength]).toEqual([11, 8]);
    const request = new Uint8Array(11);
    chain.reader().readExact(request);
    expect(new TextDecoder().decode(request)).toBe('hello world');
    const writer = chain.writer();
    writer.writeU32(0xcafe);
    queue.addUsed(mem, chain.headIndex, writer.bytesWritten);
    expect(mem.readU32(buffers[2]!.addr)).toBe(0xcafe);
    expect(driver.takeUsed()).toEqual([{ id: head, len: 4 }]);
    expect([queue.nextAvail, queue.nextUsed, queue.usedIdx(mem)]).toEqual([1, 1, 1]);
    expect(queue.popDescriptorChain(mem)).toBeUndefined();
  });

  it('iterates over every available chain in order', () => {
    const { mem, driver, queue } = setup();
    const heads = [0, 1, 2].map(
      (i) => driver.addChain([{ data: text(`req${i}`) }, { len: 4, write: true }]).head,
    );
    const seen = [...queue.iter(mem)].map((c) => c.headIndex);
    expect(seen).toEqual(heads);
    expect([...queue.iter(mem)]).toEqual([]);
  });

  it('follows direct descriptors into an indirect table', () => {
    const { mem, driver, queue } = setup();
    // An indirect chain as the mock lays it out: one descriptor pointing at a table.
    const plain = driver.addChain([{ data: text('abc') }, { data: text('de') }, { len: 3, write: true }], {
      indirect: true,
    });
    const only = queue.popDescriptorChain(mem)!;
    expect(only.headIndex).toBe(plain.head);
    expect(only.descriptors.map((d) => [d.len, d.isWriteOnly])).toEqual([
      [3, false],
      [2, false],
      [3, true],
    ]);
    // Zero or more direct descriptors, then the indirect one (§2.7.5.3): 5 → 6 → table.
    const table = driver.readDescriptor(plain.head);
    expect(table.flags).toBe(VRING_DESC_F_INDIRECT);
    const hdr = driver.alloc(3);
    mem.writeSlice(hdr, text('hdr'));
    driver.writeDescriptor(5, { addr: hdr, len: 3, flags: VRING_DESC_F_NEXT, next: 6 });
    driver.writeDescriptor(6, table);
    driver.publish(5);
    const mixed = queue.popDescriptorChain(mem)!;
    expect(mixed.headIndex).toBe(5);
    expect(mixed.descriptors.map((d) => d.len)).toEqual([3, 3, 2, 3]);
    const data = new Uint8Array(16);
    expect(mixed.reader().read(data)).toBe(8);
    expect(new TextDecoder().decode(data.subarray(0, 8))).toBe('hdrabcde');
    expect(mixed.writer().availableBytes).toBe(plain.buffers[2]!.len);
  });

  it('puts a popped chain back with undoPop', () => {
    const { mem, driver, queue } = setup();
    const { head } = driver.addChain([{ data: text('x') }]);
    expect(queue.popDescriptorChain(mem)?.headIndex).toBe(head);
    queue.undoPop();
    expect(queue.popDescriptorChain(mem)?.headIndex).toBe(head);
  });

  it('wraps its indexes at 2^16', () => {
    const { mem, driver, queue } = setup(4);
    driver.setAvailIdx(0xfffe);
    queue.setNextAvail(0xfffe);
    queue.setNextUsed(0xfffe);
    for (let i = 0; i < 4; i++) {
      const { head } = driver.addChain([{ data: text('x') }]);
      const chain = queue.popDescriptorChain(mem)!;
      expect(chain.headIndex).toBe(head);
      queue.addUsed(mem, head, 0);
    }
    expect([queue.nextAvail, queue.nextUsed, driver.availIdx]).toEqual([2, 2, 2]);
  });
});

describe('Queue rejects what a driver gets wrong', () => {
  it('an available index more than a queue ahead', () => {
    const { mem, driver, queue } = setup(8);
    driver.setAvailIdx(9);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INVALID_AVAIL_IDX');
    driver.setAvailIdx(8);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('ok');
  });

  it('head and next indexes outside the table, naming the chain and consuming it', () => {
    const { mem, driver, queue } = setup(8);
    driver.publish(8);
    const err = errorOf(() => queue.popDescriptorChain(mem));
    expect([err.code, err.headIndex, queue.nextAvail]).toEqual(['INVALID_DESCRIPTOR_INDEX', 8, 1]);
    driver.writeDescriptor(2, { addr: 0x8000n, len: 4, flags: VRING_DESC_F_NEXT, next: 8 });
    driver.publish(2);
    expect(errorOf(() => queue.popDescriptorChain(mem)).headIndex).toBe(2);
    queue.addUsed(mem, 2, 0); // the device hands the bad chain back and goes on
    expect(driver.takeUsed()).toEqual([{ id: 2, len: 0 }]);
  });

  it('loops, direct and indirect', () => {
    const { mem, driver, queue } = setup(8);
    driver.writeDescriptor(0, { addr: 0x8000n, len: 4, flags: VRING_DESC_F_NEXT, next: 1 });
    driver.writeDescriptor(1, { addr: 0x8000n, len: 4, flags: VRING_DESC_F_NEXT, next: 0 });
    driver.publish(0);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('CHAIN_TOO_LONG');
    const table = driver.alloc(32);
    for (let i = 0; i < 2; i++) {
      mem.writeU64(table + BigInt(16 * i), 0x8000n);
      mem.writeU32(table + BigInt(16 * i + 8), 4);
      mem.writeU16(table + BigInt(16 * i + 12), VRING_DESC_F_NEXT);
      mem.writeU16(table + BigInt(16 * i + 14), 1 - i);
    }
    driver.writeDescriptor(3, { addr: table, len: 32, flags: VRING_DESC_F_INDIRECT, next: 0 });
    driver.publish(3);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('CHAIN_TOO_LONG');
  });

  it('an indirect next index outside its table', () => {
    const { mem, driver, queue } = setup(8);
    const table = driver.alloc(16);
    mem.writeU64(table, 0x8000n);
    mem.writeU32(table + 8n, 4);
    mem.writeU16(table + 12n, VRING_DESC_F_NEXT);
    mem.writeU16(table + 14n, 1);
    driver.writeDescriptor(0, { addr: table, len: 16, flags: VRING_DESC_F_INDIRECT, next: 0 });
    driver.publish(0);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INVALID_DESCRIPTOR_INDEX');
  });

  it('an indirect table inside an indirect table, and INDIRECT together with NEXT', () => {
    const { mem, driver, queue } = setup(8);
    const table = driver.alloc(16);
    mem.writeU64(table, table);
    mem.writeU32(table + 8n, 16);
    mem.writeU16(table + 12n, VRING_DESC_F_INDIRECT);
    driver.writeDescriptor(0, { addr: table, len: 16, flags: VRING_DESC_F_INDIRECT, next: 0 });
    driver.publish(0);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('NESTED_INDIRECT');
    driver.writeDescriptor(1, {
      addr: table,
      len: 16,
      flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
      next: 2,
    });
    driver.publish(1);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INDIRECT_WITH_NEXT');
  });

  it('indirect tables of length 0, not a multiple of 16, too long, or outside memory', () => {
    const { mem, driver, queue } = setup(8);
    const cases: Array<[bigint, number, string]> = [
      [0x8000n, 0, 'INVALID_INDIRECT_TABLE'],
      [0x8000n, 24, 'INVALID_INDIRECT_TABLE'],
      [0x8000n, 65537 * 16, 'INVALID_INDIRECT_TABLE'],
      [0x20_0000n, 32, 'DESCRIPTOR_OUT_OF_MEMORY'],
      [0xf_fff0n, 32, 'DESCRIPTOR_OUT_OF_MEMORY'],
    ];
    for (const [addr, len, code] of cases) {
      driver.writeDescriptor(0, { addr, len, flags: VRING_DESC_F_INDIRECT, next: 0 });
      driver.publish(0);
      expect(codeOf(() => queue.popDescriptorChain(mem))).toBe(code);
    }
  });

  it('buffers outside guest memory, including ones whose end overflows 64 bits', () => {
    const { mem, driver, queue } = setup(8);
    for (const [addr, len] of [
      [0x20_0000n, 1],
      [0xf_ffffn, 2],
      [0xffff_ffff_ffff_ffffn, 2],
      [0x100_0000n, 0x1_0001],
    ] as const) {
      driver.writeDescriptor(0, { addr, len, flags: 0, next: 0 });
      driver.publish(0);
      expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('DESCRIPTOR_OUT_OF_MEMORY');
    }
    // A zero-length buffer touches nothing, wherever it points.
    driver.writeDescriptor(0, { addr: 0xffff_ffff_ffff_ffffn, len: 0, flags: 0, next: 0 });
    driver.publish(0);
    expect(queue.popDescriptorChain(mem)?.descriptors[0]?.len).toBe(0);
  });

  it('a readable buffer after a writable one, also across an indirect table', () => {
    const { mem, driver, queue } = setup(8);
    driver.addChain([{ len: 4, write: true }, { data: text('late') }]);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('READABLE_AFTER_WRITABLE');
    driver.addChain([{ len: 4, write: true }, { data: text('late') }], { indirect: true });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('READABLE_AFTER_WRITABLE');
  });

  it('rings outside guest memory on a queue nobody validated: refused before any ring access', () => {
    const { mem, queue } = setup(8);
    queue.setAvailRingAddress(0x20_0000);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.addUsed(mem, 0, 0))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.needsNotification(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.enableNotification(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.disableNotification(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.usedIdx(mem))).toBe('AREA_OUT_OF_MEMORY');
    queue.setAvailRingAddress(0x2001);
    expect(codeOf(() => queue.availIdx(mem))).toBe('MISALIGNED_AREA');
  });

  it('memory that fails under it (closed): a GUEST_MEMORY error carrying the cause', () => {
    const mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x10_0000 }]);
    const driver = new MockSplitQueue(mem, 8);
    const queue = driver.createQueue();
    driver.addChain([{ data: text('x') }, { len: 4, write: true }]);
    const chain = queue.popDescriptorChain(mem)!;
    mem.close();
    const err = errorOf(() => queue.popDescriptorChain(mem));
    expect(err.code).toBe('GUEST_MEMORY');
    expect((err.cause as { code: string }).code).toBe('CLOSED');
    for (const fn of [
      () => queue.addUsed(mem, 0, 0),
      () => queue.needsNotification(mem),
      () => queue.enableNotification(mem),
      () => queue.disableNotification(mem),
      () => queue.usedIdx(mem),
      () => chain.reader().readU8(),
      () => chain.reader().read(new Uint8Array(1)),
      () => chain.reader().slices(),
      () => chain.writer().writeU32(1),
    ]) {
      expect(codeOf(fn)).toBe('GUEST_MEMORY');
    }
  });

  it('a queue that is not ready or has a bad size, before touching memory', () => {
    const { mem, queue } = setup(8);
    queue.setSize(0);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INVALID_SIZE');
    queue.setReady(false);
    expect(codeOf(() => queue.addUsed(mem, 0, 0))).toBe('QUEUE_NOT_READY');
  });

  it('used ids that name no descriptor, and lengths that are not u32', () => {
    const { mem, queue } = setup(8);
    expect(codeOf(() => queue.addUsed(mem, 8, 0))).toBe('INVALID_USED_ID');
    expect(codeOf(() => queue.addUsed(mem, -1, 0))).toBe('INVALID_USED_ID');
    expect(() => queue.addUsed(mem, 0, 2 ** 32)).toThrow(RangeError);
  });
});

describe('Queue notifications', () => {
  it('without EVENT_IDX: follows NO_INTERRUPT and sets NO_NOTIFY', () => {
    const { mem, driver, queue } = setup();
    expect(queue.needsNotification(mem)).toBe(true);
    driver.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
    expect(queue.needsNotification(mem)).toBe(false);
    queue.disableNotification(mem);
    expect(driver.usedFlags).toBe(VRING_USED_F_NO_NOTIFY);
    expect(queue.enableNotification(mem)).toBe(false);
    expect(driver.usedFlags).toBe(0);
    driver.addChain([{ data: text('x') }]);
    expect(queue.enableNotification(mem)).toBe(true); // work arrived: process before sleeping
  });

  it('with EVENT_IDX: interrupts exactly when the used index passes used_event', () => {
    const { mem, driver, queue } = setup(16, true);
    const complete = () => {
      driver.addChain([{ data: text('x') }]);
      const chain = queue.popDescriptorChain(mem)!;
      queue.addUsed(mem, chain.headIndex, 0);
    };
    expect(queue.needsNotification(mem)).toBe(true); // the first decision always notifies
    driver.setUsedEvent(2); // "interrupt me when entry 2 is used", i.e. when used idx goes past 2
    complete(); // used idx 1
    expect(queue.needsNotification(mem)).toBe(false);
    complete(); // 2
    expect(queue.needsNotification(mem)).toBe(false);
    complete(); // 3: passed used_event
    expect(queue.needsNotification(mem)).toBe(true);
    expect(queue.needsNotification(mem)).toBe(false); // nothing new
    complete();
    complete(); // 5, and used_event 2 is behind
    expect(queue.needsNotification(mem)).toBe(false);
    driver.setUsedEvent(5);
    complete();
    complete(); // 7: two at once crossing 5
    expect(queue.needsNotification(mem)).toBe(true);
    queue.disableNotification(mem); // no flag with EVENT_IDX
    expect(driver.usedFlags).toBe(0);
    expect(queue.enableNotification(mem)).toBe(false);
    expect(driver.availEvent).toBe(queue.nextAvail);
  });

  it('with EVENT_IDX: uses wrapping arithmetic across 2^16', () => {
    for (const [start, event, adds, want] of [
      [0xfffe, 0xffff, 2, true], // 0xfffe → 0x0000 crosses 0xffff
      [0xfffe, 0x0000, 2, false], // reaches 0 but does not pass it
      [0xfffe, 0x0000, 3, true],
      [0xfff0, 0x0010, 4, false],
    ] as const) {
      const { mem, driver, queue } = setup(4, true);
      queue.setNextUsed(start);
      queue.needsNotification(mem);
      driver.setUsedEvent(event);
      for (let i = 0; i < adds; i++) {
        driver.addChain([{ data: text('x') }]);
        queue.addUsed(mem, queue.popDescriptorChain(mem)!.headIndex, 0);
      }
      expect(queue.needsNotification(mem)).toBe(want);
    }
  });
});
