import { VRING_AVAIL_F_NO_INTERRUPT } from '@tsvmm/virtio-queue';
import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import {
  createRngDevice,
  RNG_DEVICE_INFO,
  RNG_MAX_REQUEST_BYTES,
  RngDevice,
  rngDeviceSpec,
  VIRTIO_ID_RNG,
} from '../../src/index.js';
import { activation } from '../support/activation.js';

function setup(options: { eventIdx?: boolean; size?: number } = {}) {
  const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x40_0000 }]);
  const driver = new MockSplitQueue(mem, options.size ?? 16, { eventIdx: options.eventIdx ?? false });
  const device = new RngDevice();
  const act = activation(mem, [driver.createQueue()], RNG_DEVICE_INFO.availFeatures);
  device.activate(act);
  return { mem, driver, device, interrupt: act.interrupt };
}

function isRandomLooking(bytes: Uint8Array): boolean {
  // 64 random bytes have at least 20 distinct values with overwhelming probability.
  return new Set(bytes).size > 20;
}

describe('virtio-rng', () => {
  it('presents device type 4 with one queue, no configuration space, VERSION_1 and the ring features', () => {
    expect(RNG_DEVICE_INFO.deviceType).toBe(VIRTIO_ID_RNG);
    expect(RNG_DEVICE_INFO.queueMaxSizes).toEqual([256]);
    expect(RNG_DEVICE_INFO.configSpace.length).toBe(0);
    expect(RNG_DEVICE_INFO.availFeatures).toBe((1n << 32n) | (1n << 29n) | (1n << 28n));
    const spec = rngDeviceSpec();
    expect(spec.info).toBe(RNG_DEVICE_INFO);
    expect(spec.module).toMatch(/\/dist\/rng\/device\.js$/);
    expect(createRngDevice()).toBeInstanceOf(RngDevice);
  });

  it('fills each writable buffer with fresh random bytes and reports their length', () => {
    const { mem, driver, device, interrupt } = setup();
    const a = driver.addChain([{ len: 64, write: true }]);
    const b = driver.addChain([
      { len: 10, write: true },
      { len: 54, write: true },
    ]);
    device.processQueue(0);
    expect(driver.takeUsed()).toEqual([
      { id: a.head, len: 64 },
      { id: b.head, len: 64 },
    ]);
    const first = mem.getSlice(a.buffers[0]!.addr, 64).slice();
    const second = new Uint8Array([
      ...mem.getSlice(b.buffers[0]!.addr, 10),
      ...mem.getSlice(b.buffers[1]!.addr, 54),
    ]);
    expect(isRandomLooking(first)).toBe(true);
    expect(isRandomLooking(second)).toBe(true);
    expect(first).not.toEqual(second);
    expect(interrupt.used).toEqual([0]);
    expect(device.metrics).toEqual({ requests: 2, bytes: 128, badChains: 0 });
  });

  it('leaves device-readable buffers alone', () => {
    const { mem, driver, device } = setup();
    const chain = driver.addChain([{ data: new Uint8Array(8).fill(7) }, { len: 8, write: true }]);
    device.processQueue(0);
    expect([...mem.getSlice(chain.buffers[0]!.addr, 8)]).toEqual(new Array(8).fill(7));
    expect(driver.takeUsed()).toEqual([{ id: chain.head, len: 8 }]);
  });

  it('follows indirect tables', () => {
    const { mem, driver, device } = setup();
    const chain = driver.addChain([{ len: 64, write: true }], { indirect: true });
    device.processQueue(0);
    expect(driver.takeUsed()).toEqual([{ id: chain.head, len: 64 }]);
    expect(isRandomLooking(mem.getSlice(chain.buffers[0]!.addr, 64))).toBe(true);
  });

  it(`gives one request at most ${RNG_MAX_REQUEST_BYTES} bytes`, () => {
    const { driver, device } = setup();
    const chain = driver.addChain([{ len: RNG_MAX_REQUEST_BYTES + 4096, write: true }]);
    device.processQueue(0);
    expect(driver.takeUsed()).toEqual([{ id: chain.head, len: RNG_MAX_REQUEST_BYTES }]);
  });

  it('returns a malformed chain with length 0 and serves the next one', () => {
    const { driver, device } = setup();
    driver.writeDescriptor(9, { addr: 0x10_0000n, len: 16, flags: 1 | 2, next: 99 }); // next out of range
    driver.publish(9);
    const good = driver.addChain([{ len: 16, write: true }]);
    device.processQueue(0);
    expect(driver.takeUsed()).toEqual([
      { id: 9, len: 0 },
      { id: good.head, len: 16 },
    ]);
    expect(device.metrics.badChains).toBe(1);
  });

  it('throws when the ring itself is broken, so the transport can set NEEDS_RESET', () => {
    const { driver, device } = setup();
    driver.setAvailIdx(100); // more than a queue size ahead
    expect(() => device.processQueue(0)).toThrow(expect.objectContaining({ code: 'INVALID_AVAIL_IDX' }));
  });

  it('publishes avail_event with EVENT_IDX, so the driver keeps notifying', () => {
    const { driver, device } = setup({ eventIdx: true });
    driver.addChain([{ len: 8, write: true }]);
    driver.addChain([{ len: 8, write: true }]);
    device.processQueue(0);
    expect(driver.availEvent).toBe(2);
  });

  it('does not interrupt a driver that asked not to be', () => {
    const { driver, device, interrupt } = setup();
    driver.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
    driver.addChain([{ len: 8, write: true }]);
    device.processQueue(0);
    expect(driver.takeUsed()).toHaveLength(1);
    expect(interrupt.used).toEqual([]);
  });

  it('does nothing before activation, after reset, or for a queue it does not have', () => {
    const { driver, device } = setup();
    driver.addChain([{ len: 8, write: true }]);
    device.processQueue(1);
    expect(driver.takeUsed()).toEqual([]);
    device.reset();
    device.processQueue(0);
    expect(driver.takeUsed()).toEqual([]);
    new RngDevice().processQueue(0);
  });
});
