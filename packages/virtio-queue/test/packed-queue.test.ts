import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import {
  PackedQueue,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_PACKED_DESC_F_AVAIL,
  VRING_PACKED_DESC_F_USED,
  VRING_PACKED_EVENT_FLAG_DESC,
  VRING_PACKED_EVENT_FLAG_DISABLE,
  VRING_PACKED_EVENT_FLAG_ENABLE,
} from '../src/index.js';
import { MockPackedQueue, packedAvailFlags } from '../src/testing/index.js';
import { codeOf, errorOf, testMemory, text } from './helpers.js';

function setup(size = 8, eventIdx = false) {
  const mem = testMemory();
  const driver = new MockPackedQueue(mem, size, { eventIdx });
  return { mem, driver, queue: driver.createQueue() };
}

/** Pops, reads nothing, and returns every available chain as used with 0 bytes. */
function drain(queue: PackedQueue, mem: ReturnType<typeof testMemory>): number[] {
  const ids: number[] = [];
  for (const chain of queue.iter(mem)) {
    ids.push(chain.headIndex);
    queue.addUsed(mem, chain.headIndex, 0);
  }
  return ids;
}

describe('PackedQueue configuration', () => {
  it('takes any size up to 32768, and checks the three areas', () => {
    expect(() => new PackedQueue(0)).toThrow(RangeError);
    expect(() => new PackedQueue(32769)).toThrow(RangeError);
    const { mem, queue } = setup(6); // not a power of two: fine for packed rings
    queue.validate(mem);
    const q = () => new MockPackedQueue(mem, 6).createQueue();
    const bad = (mutate: (q: PackedQueue) => void) => {
      const x = q();
      mutate(x);
      return codeOf(() => x.validate(mem));
    };
    expect(bad((x) => x.setSize(7))).toBe('INVALID_SIZE');
    expect(bad((x) => x.setDescTableAddress(0x1008))).toBe('MISALIGNED_AREA');
    expect(bad((x) => x.setAvailRingAddress(0x2002))).toBe('MISALIGNED_AREA');
    expect(bad((x) => x.setUsedRingAddress(0x2006))).toBe('MISALIGNED_AREA');
    expect(bad((x) => x.setUsedRingAddress(0x20_0000))).toBe('AREA_OUT_OF_MEMORY');
    expect(bad((x) => x.setReady(false))).toBe('QUEUE_NOT_READY');
  });
});

describe('PackedQueue chains', () => {
  it('pops a chain, returns it as used with the wrap flags, and advances by its slots', () => {
    const { mem, driver, queue } = setup();
    const { head, buffers } = driver.addChain([{ data: text('ping') }, { len: 4, write: true }], { id: 5 });
    const chain = queue.popDescriptorChain(mem)!;
    expect(chain.headIndex).toBe(5);
    expect(head).toBe(5);
    const request = new Uint8Array(4);
    chain.reader().readExact(request);
    expect(new TextDecoder().decode(request)).toBe('ping');
    const w = chain.writer();
    w.writeExact(text('pong'));
    queue.addUsed(mem, chain.headIndex, w.bytesWritten);
    expect(new TextDecoder().decode(mem.getSlice(buffers[1]!.addr, 4))).toBe('pong');
    const used = driver.readDescriptor(0);
    expect([used.id, used.len, used.flags]).toEqual([
      5,
      4,
      VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED | VRING_DESC_F_WRITE,
    ]);
    expect(driver.takeUsed()).toEqual([{ id: 5, len: 4 }]);
    expect([queue.nextAvail, queue.nextUsed]).toEqual([2, 2]);
    expect(queue.popDescriptorChain(mem)).toBeUndefined();
  });

  it('keeps going over many laps, with chains that wrap around the ring end', () => {
    const { mem, driver, queue } = setup(5);
    const seen: number[] = [];
    for (let round = 0; round < 12; round++) {
      const { head } = driver.addChain([{ data: text('a') }, { data: text('b') }, { len: 1, write: true }]);
      seen.push(...drain(queue, mem));
      expect(seen.at(-1)).toBe(head);
      expect(driver.takeUsed()).toEqual([{ id: head, len: 0 }]);
    }
    expect(seen).toHaveLength(12);
    expect(queue.availWrapCounter).toBe(queue.usedWrapCounter);
  });

  it('reads indirect tables in order, ignoring every flag but WRITE there', () => {
    const { mem, driver, queue } = setup();
    driver.addChain([{ data: text('abc') }, { len: 2, write: true }], { indirect: true, id: 3 });
    const chain = queue.popDescriptorChain(mem)!;
    expect(chain.headIndex).toBe(3);
    expect(chain.descriptors.map((d) => [d.len, d.isWriteOnly])).toEqual([
      [3, false],
      [2, true],
    ]);
    queue.addUsed(mem, 3, 2);
    expect(driver.takeUsed()).toEqual([{ id: 3, len: 2 }]);
  });

  it('puts a popped chain back with undoPop', () => {
    const { mem, driver, queue } = setup();
    driver.addChain([{ data: text('x') }, { data: text('y') }], { id: 1 });
    queue.popDescriptorChain(mem);
    queue.undoPop();
    expect(codeOf(() => queue.addUsed(mem, 1, 0))).toBe('INVALID_USED_ID');
    expect(queue.popDescriptorChain(mem)?.descriptors).toHaveLength(2);
    queue.undoPop();
    queue.undoPop(); // only one step back: a no-op now
    expect(queue.nextAvail).toBe(0);
  });

  it('resets its positions and wrap counters', () => {
    const { mem, driver, queue } = setup(2);
    driver.addChain([{ data: text('x') }, { data: text('y') }]);
    drain(queue, mem);
    expect(queue.availWrapCounter).toBe(false);
    queue.reset();
    expect([queue.nextAvail, queue.nextUsed, queue.availWrapCounter, queue.usedWrapCounter]).toEqual([
      0,
      0,
      true,
      true,
    ]);
  });
});

describe('PackedQueue rejects what a driver gets wrong', () => {
  it('a chain that runs into a slot that is not available', () => {
    const { mem, driver, queue } = setup();
    driver.writeDescriptor(1, { addr: 0x8000n, len: 4, id: 0, flags: 0 });
    driver.writeDescriptor(0, {
      addr: 0x8000n,
      len: 4,
      id: 9,
      flags: VRING_DESC_F_NEXT | packedAvailFlags(true),
    });
    const err = errorOf(() => queue.popDescriptorChain(mem));
    // The slot it could read is consumed, and can be handed back under the id read last.
    expect([err.code, err.headIndex, queue.nextAvail]).toEqual(['DESCRIPTOR_NOT_AVAILABLE', 9, 1]);
    queue.addUsed(mem, 9, 0);
    expect(driver.takeUsed()).toEqual([{ id: 9, len: 0 }]);
  });

  it('a chain longer than the ring, even if a driver keeps re-marking slots available', () => {
    const { mem, driver, queue } = setup(4);
    for (let slot = 3; slot >= 0; slot--) {
      driver.writeDescriptor(slot, {
        addr: 0x8000n,
        len: 4,
        id: slot,
        flags: VRING_DESC_F_NEXT | packedAvailFlags(true),
      });
    }
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('CHAIN_TOO_LONG');
    const one = new MockPackedQueue(mem, 1, { base: 0x4000n });
    one.writeDescriptor(0, {
      addr: 0x8000n,
      len: 4,
      id: 0,
      flags: VRING_DESC_F_NEXT | packedAvailFlags(true),
    });
    expect(codeOf(() => one.createQueue().popDescriptorChain(mem))).toBe('CHAIN_TOO_LONG');
  });

  it('indirect descriptors that are chained, and bad indirect tables', () => {
    const { mem, driver, queue } = setup();
    const avail = packedAvailFlags(true);
    driver.writeDescriptor(0, {
      addr: 0x8000n,
      len: 16,
      id: 1,
      flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT | avail,
    });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INDIRECT_WITH_NEXT');
    driver.writeDescriptor(1, { addr: 0x8000n, len: 4, id: 1, flags: VRING_DESC_F_NEXT | avail });
    driver.writeDescriptor(2, { addr: 0x8000n, len: 16, id: 1, flags: VRING_DESC_F_INDIRECT | avail });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INDIRECT_WITH_NEXT');
    driver.writeDescriptor(3, { addr: 0x8000n, len: 8, id: 1, flags: VRING_DESC_F_INDIRECT | avail });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('INVALID_INDIRECT_TABLE');
    driver.writeDescriptor(4, { addr: 0x20_0000n, len: 16, id: 1, flags: VRING_DESC_F_INDIRECT | avail });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('DESCRIPTOR_OUT_OF_MEMORY');
    driver.writeDescriptor(5, { addr: 0x20_0000n, len: 16, id: 1, flags: avail });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('DESCRIPTOR_OUT_OF_MEMORY');
    driver.writeDescriptor(6, {
      addr: 0x8000n,
      len: 4,
      id: 1,
      flags: VRING_DESC_F_WRITE | VRING_DESC_F_NEXT | avail,
    });
    driver.writeDescriptor(7, { addr: 0x8000n, len: 4, id: 1, flags: avail });
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('READABLE_AFTER_WRITABLE');
  });

  it('used ids that were never popped, and rings outside memory', () => {
    const { mem, queue } = setup();
    expect(codeOf(() => queue.addUsed(mem, 0, 0))).toBe('INVALID_USED_ID');
    queue.setDescTableAddress(0x20_0000);
    expect(codeOf(() => queue.popDescriptorChain(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.enableNotification(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.needsNotification(mem))).toBe('AREA_OUT_OF_MEMORY');
    expect(codeOf(() => queue.disableNotification(mem))).toBe('AREA_OUT_OF_MEMORY');
  });

  it('memory that fails under it (closed): GUEST_MEMORY errors', () => {
    const mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x10_0000 }]);
    const driver = new MockPackedQueue(mem, 8);
    const queue = driver.createQueue();
    driver.addChain([{ data: text('x') }], { id: 2 });
    queue.popDescriptorChain(mem);
    mem.close();
    for (const fn of [
      () => queue.popDescriptorChain(mem),
      () => queue.addUsed(mem, 2, 0),
      () => queue.needsNotification(mem),
      () => queue.enableNotification(mem),
      () => queue.disableNotification(mem),
    ]) {
      expect(codeOf(fn)).toBe('GUEST_MEMORY');
    }
  });
});

describe('PackedQueue notifications', () => {
  it('follows the driver event flags: ENABLE, DISABLE, and DESC with EVENT_IDX', () => {
    const { mem, driver, queue } = setup(8, true);
    const complete = () => {
      driver.addChain([{ data: text('x') }]);
      drain(queue, mem);
    };
    driver.setDriverEvent(0, VRING_PACKED_EVENT_FLAG_DISABLE);
    complete();
    expect(queue.needsNotification(mem)).toBe(false);
    driver.setDriverEvent(0, VRING_PACKED_EVENT_FLAG_ENABLE);
    expect(queue.needsNotification(mem)).toBe(true);
    // "Notify when the used position passes slot 3 of this lap."
    driver.setDriverEvent(3 | (1 << 15), VRING_PACKED_EVENT_FLAG_DESC);
    complete(); // used position 2
    expect(queue.needsNotification(mem)).toBe(false);
    complete(); // 3
    expect(queue.needsNotification(mem)).toBe(false);
    complete(); // 4: passed 3
    expect(queue.needsNotification(mem)).toBe(true);
    // An event offset for the next lap (wrap bit 0) lies ahead until the ring wraps.
    driver.setDriverEvent(1, VRING_PACKED_EVENT_FLAG_DESC);
    for (let i = 0; i < 4; i++) complete(); // positions 5, 6, 7, 0 (wrapped)
    expect(queue.needsNotification(mem)).toBe(false);
    complete();
    complete(); // 1, 2: passed slot 1 of the new lap
    expect(queue.needsNotification(mem)).toBe(true);
  });

  it('treats DESC without EVENT_IDX like ENABLE', () => {
    const { mem, driver, queue } = setup(8, false);
    driver.setDriverEvent(0, VRING_PACKED_EVENT_FLAG_DESC);
    expect(queue.needsNotification(mem)).toBe(true);
  });

  it('writes its own event suppression area and reports work that arrived', () => {
    const { mem, driver, queue } = setup(8, false);
    queue.disableNotification(mem);
    expect(driver.deviceEvent.flags).toBe(VRING_PACKED_EVENT_FLAG_DISABLE);
    expect(queue.enableNotification(mem)).toBe(false);
    expect(driver.deviceEvent.flags).toBe(VRING_PACKED_EVENT_FLAG_ENABLE);
    driver.addChain([{ data: text('x') }]);
    expect(queue.enableNotification(mem)).toBe(true);
    const withIdx = setup(8, true);
    withIdx.driver.addChain([{ data: text('x') }]);
    drain(withIdx.queue, withIdx.mem);
    expect(withIdx.queue.enableNotification(withIdx.mem)).toBe(false);
    expect(withIdx.driver.deviceEvent).toEqual({
      offWrap: 1 | (1 << 15),
      flags: VRING_PACKED_EVENT_FLAG_DESC,
    });
  });
});
