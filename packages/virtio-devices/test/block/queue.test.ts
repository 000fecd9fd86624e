/**
 * The block device as a queue consumer: interrupts, notification
 * suppression, malformed chains, a broken ring, reset, and several disks.
 */
import { readFileSync } from 'node:fs';
import { VirtioQueueError, VRING_AVAIL_F_NO_INTERRUPT, VRING_DESC_F_NEXT } from '@tsvmm/virtio-queue';
import { describe, expect, it } from 'vitest';
import { VIRTIO_BLK_S_OK, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT } from '../../src/block/index.js';
import { BlockBench, header, patternByte } from './helpers.js';

describe('interrupts', () => {
  it('one used-buffer interrupt for a batch of requests', () => {
    const bench = new BlockBench();
    for (let i = 0; i < 5; i++) bench.request(VIRTIO_BLK_T_IN, i, { in: 512 });
    expect(bench.run()).toHaveLength(5);
    expect(bench.interrupts.used).toEqual([0]);
    expect(bench.device.metrics.interrupts).toBe(1);
  });

  it('none when nothing was available, and none when the driver set VRING_AVAIL_F_NO_INTERRUPT', () => {
    const bench = new BlockBench();
    expect(bench.run()).toEqual([]);
    bench.driver.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
    bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    expect(bench.run()).toHaveLength(1);
    expect(bench.interrupts.used).toEqual([]);
  });

  it('with EVENT_IDX: only when used_event is passed, and avail_event re-armed past what was served', () => {
    const bench = new BlockBench({ eventIdx: true });
    bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    bench.run();
    expect(bench.interrupts.used).toEqual([0]); // the first notification is always sent
    expect(bench.driver.availEvent).toBe(1);
    bench.driver.setUsedEvent(5); // the driver wants to hear when the 6th buffer is used
    for (let i = 0; i < 3; i++) bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    bench.run();
    expect(bench.interrupts.used).toEqual([0]);
    expect(bench.driver.availEvent).toBe(4);
    for (let i = 0; i < 3; i++) bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    bench.run();
    expect(bench.interrupts.used).toEqual([0, 0]);
  });
});

describe('malformed chains', () => {
  it('a descriptor loop is returned with used length 0 and the next request is served', () => {
    const bench = new BlockBench();
    // Descriptors 14 and 15 point at each other.
    bench.driver.writeDescriptor(14, { addr: 0x8000n, len: 16, flags: VRING_DESC_F_NEXT, next: 15 });
    bench.driver.writeDescriptor(15, { addr: 0x8000n, len: 16, flags: VRING_DESC_F_NEXT, next: 14 });
    bench.driver.publish(14);
    const good = bench.request(VIRTIO_BLK_T_IN, 1, { in: 512 });
    expect(bench.run()).toEqual([
      { id: 14, len: 0 },
      { id: good.chain.head, len: 513 },
    ]);
    expect(good.status()).toBe(VIRTIO_BLK_S_OK);
    expect(bench.device.metrics.faults.MALFORMED_CHAIN).toBe(1);
    expect(bench.logs[0]).toMatch(/MALFORMED_CHAIN \(CHAIN_TOO_LONG/);
  });

  it('a head index outside the ring cannot be returned: counted, skipped', () => {
    const bench = new BlockBench();
    bench.driver.publish(999);
    const good = bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    expect(bench.run()).toEqual([{ id: good.chain.head, len: 513 }]);
    expect(bench.device.metrics.faults.MALFORMED_CHAIN).toBe(1);
  });

  it('a buffer outside guest memory is returned with used length 0', () => {
    const bench = new BlockBench();
    const bad = bench.post([
      { data: header(VIRTIO_BLK_T_IN, 0) },
      { addr: 0xfff_0000n, len: 512, write: true },
    ]);
    expect(bench.run()).toEqual([{ id: bad.chain.head, len: 0 }]);
    expect(bench.device.metrics.faults.MALFORMED_CHAIN).toBe(1);
  });

  it('an available index far ahead breaks the ring: processQueue throws INVALID_AVAIL_IDX (NEEDS_RESET)', () => {
    const bench = new BlockBench();
    bench.driver.setAvailIdx(100);
    let error: unknown;
    try {
      bench.device.processQueue(0);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VirtioQueueError);
    expect((error as VirtioQueueError).code).toBe('INVALID_AVAIL_IDX');
  });
});

describe('activation and reset', () => {
  it('serves nothing before activation, after reset, or for a queue index it does not have', () => {
    const bench = new BlockBench();
    bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    bench.device.processQueue(1);
    expect(bench.driver.takeUsed()).toEqual([]);
    bench.device.reset();
    bench.device.reset(); // idempotent
    expect(bench.device.active).toBe(false);
    expect(bench.run()).toEqual([]);
    bench.device.activate(bench.activation(bench.device.availFeatures));
    expect(bench.device.active).toBe(true);
    expect(bench.run().map((u) => u.len)).toEqual([513]);
  });

  it('activate without a queue is a RangeError', () => {
    const bench = new BlockBench();
    expect(() => bench.device.activate({ ...bench.activation(0n), queues: [] })).toThrow(RangeError);
  });
});

describe('several disks', () => {
  it('work independently: each reads and writes its own image', () => {
    const a = new BlockBench({ size: 4096 });
    const b = new BlockBench({ size: 8192, serial: 'b' });
    const bBefore = readFileSync(b.path);
    a.request(VIRTIO_BLK_T_OUT, 0, { out: new Uint8Array(512).fill(0xa1) });
    const readB = b.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    a.run();
    b.run();
    expect(
      readFileSync(a.path)
        .subarray(0, 512)
        .every((x) => x === 0xa1),
    ).toBe(true);
    expect(readFileSync(b.path)).toEqual(bBefore);
    expect(readB.dataIn()).toEqual(Uint8Array.from({ length: 512 }, (_, i) => patternByte(i)));
    expect(a.device.configSpace).not.toEqual(b.device.configSpace); // capacities differ
  });
});
