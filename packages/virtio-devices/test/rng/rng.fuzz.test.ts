/**
 * virtio-rng against hostile rings: random descriptor tables and available
 * rings over a recording memory. The device may only throw VirtioQueueErrors
 * (a ring it cannot go on with), must terminate, must stay inside guest
 * memory, and may write only the used ring and device-writable buffers.
 * `pnpm fuzz` runs VIRTIO_DEVICES_FUZZ_RUNS cases.
 */
import { VirtioQueueError, VRING_DESC_F_WRITE } from '@tsvmm/virtio-queue';
import { MockSplitQueue, RecordingMemory } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RNG_DEVICE_INFO, RngDevice } from '../../src/index.js';
import { activation } from '../support/activation.js';

const RUNS = Number(process.env.VIRTIO_DEVICES_FUZZ_RUNS ?? 500);
const RAM = 0x4_0000;
const SIZE = 8;

const descriptorArb = fc.record({
  addr: fc.oneof(
    fc.bigInt({ min: 0n, max: BigInt(RAM + 64) }),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  ),
  len: fc.oneof(fc.integer({ min: 0, max: 256 }), fc.integer({ min: 0, max: 0xffff_ffff })),
  flags: fc.integer({ min: 0, max: 7 }),
  next: fc.integer({ min: 0, max: SIZE + 2 }),
});

describe('virtio-rng fuzzing', () => {
  it('hostile rings: only VirtioQueueErrors, terminates, writes only the used ring and writable buffers', {
    timeout: Math.max(30_000, RUNS * 2),
  }, () => {
    let served = 0;
    fc.assert(
      fc.property(
        fc.array(descriptorArb, { minLength: SIZE, maxLength: SIZE }),
        fc.array(fc.integer({ min: 0, max: SIZE + 1 }), { maxLength: 12 }),
        fc.boolean(),
        (descriptors, heads, eventIdx) => {
          const inner = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: RAM }]);
          const driver = new MockSplitQueue(inner, SIZE, { eventIdx, dataBase: 0x1_0000n });
          descriptors.forEach((d, i) => {
            driver.writeDescriptor(i, d);
          });
          for (const head of heads) driver.publish(head);
          const mem = new RecordingMemory(inner, { budget: 100_000 });
          const device = new RngDevice();
          device.activate(activation(mem, [driver.createQueue()], RNG_DEVICE_INFO.availFeatures));
          try {
            device.processQueue(0);
          } catch (e) {
            if (!(e instanceof VirtioQueueError)) throw e;
          }
          served += device.metrics.requests;
          expect(mem.violations).toEqual([]);
          const usedEnd = driver.usedRing + BigInt(4 + 8 * SIZE + 2);
          const writable = descriptors.filter((d) => (d.flags & VRING_DESC_F_WRITE) !== 0);
          for (const w of mem.writes) {
            const inUsed = w.addr >= driver.usedRing && w.addr + BigInt(w.len) <= usedEnd;
            const inBuffer = writable.some(
              (d) => w.addr >= d.addr && w.addr + BigInt(w.len) <= d.addr + BigInt(d.len),
            );
            expect(inUsed || inBuffer, `write at 0x${w.addr.toString(16)}+${w.len}`).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
    // Valid chains are among the hostile ones: the device did real work too.
    expect(served).toBeGreaterThan(0);
  });
});
