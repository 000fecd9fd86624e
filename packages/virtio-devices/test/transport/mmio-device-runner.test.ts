import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { IrqFdEdgeInterrupt } from '@tsvmm/vm-device';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { EPOLLIN } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import {
  IoEventLoop,
  MmioDeviceRunner,
  RNG_DEVICE_INFO,
  RngDevice,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_MMIO_CONFIG,
  VIRTIO_MMIO_CONFIG_GENERATION,
  VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_STATUS,
  type VirtioActivation,
  type VirtioDevice,
  type VirtioDeviceInfo,
  VirtioMmioTransport,
} from '../../src/index.js';
import { cleanupAfterEach, testEventFd } from '../support/cleanup.js';
import { MmioDriver } from '../support/mmio-driver.js';

const defer = cleanupAfterEach();
const eventFd = () => testEventFd(defer);

function setup(device: VirtioDevice = new RngDevice(), info: VirtioDeviceInfo = RNG_DEVICE_INFO) {
  const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x40_0000 }]);
  const irq = eventFd();
  const transport = VirtioMmioTransport.create(info, { irqFd: irq.fd });
  const loop = new IoEventLoop();
  defer(() => loop.close());
  const logs: string[] = [];
  const runner = new MmioDeviceRunner(device, transport.shared, {
    memory: mem,
    interrupt: new IrqFdEdgeInterrupt(irq),
    eventLoop: loop,
    log: (m) => logs.push(m),
  });
  const driver = new MmioDriver(transport);
  const mock = new MockSplitQueue(mem, 16);
  return { mem, irq, transport, runner, driver, mock, loop, logs, device };
}

describe('MmioDeviceRunner', () => {
  it('activates the device on DRIVER_OK with the queues the driver set up, and serves notifications', () => {
    const { runner, driver, mock, irq, mem } = setup();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    expect(runner.active).toBe(false);
    runner.sync();
    expect(runner.active).toBe(true);
    const chain = mock.addChain([{ len: 32, write: true }]);
    runner.processQueue(0);
    expect(mock.takeUsed()).toEqual([{ id: chain.head, len: 32 }]);
    expect(new Set(mem.getSlice(chain.buffers[0]!.addr, 32)).size).toBeGreaterThan(8);
    // The interrupt: InterruptStatus bit 0 first, then the irqfd.
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(1);
    expect(irq.read()).toBe(1n);
    driver.write(VIRTIO_MMIO_INTERRUPT_ACK, 1);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
  });

  it('serves a notification that arrives before the control eventfd was handled', () => {
    const { runner, driver, mock } = setup();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    const chain = mock.addChain([{ len: 8, write: true }]);
    runner.processQueue(0); // no sync() first: the queue's eventfd came first in the epoll batch
    expect(mock.takeUsed()).toEqual([{ id: chain.head, len: 8 }]);
  });

  it('serves buffers made available before DRIVER_OK when it activates', () => {
    const { runner, driver, mock } = setup();
    const chain = mock.addChain([{ len: 8, write: true }]);
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    expect(mock.takeUsed()).toEqual([{ id: chain.head, len: 8 }]);
  });

  it('hands the device the negotiated features, EVENT_IDX on its queues', () => {
    let seen: VirtioActivation | undefined;
    const device = Object.assign(new RngDevice(), {
      activate(a: VirtioActivation) {
        seen = a;
      },
    });
    const { runner, driver, mock } = setup(device);
    const features = (1n << 32n) | (1n << 29n);
    driver.probe(features, [mock]);
    runner.sync();
    expect(seen?.ackedFeatures).toBe(features);
    expect(seen?.queues[0]?.eventIdx).toBe(true);
    expect(seen?.queues[0]?.descTable).toBe(mock.descTable);
    expect(seen?.queues[0]?.size).toBe(16);
  });

  it('resets the device when the driver writes status 0, and stops serving its queue', () => {
    const { runner, driver, mock } = setup();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    driver.write(VIRTIO_MMIO_STATUS, 0);
    mock.addChain([{ len: 8, write: true }]);
    // Even before the control eventfd is handled, a notification sees the reset.
    runner.processQueue(0);
    expect(runner.active).toBe(false);
    expect(mock.takeUsed()).toEqual([]);
  });

  it('activates again after a reset, and not for a DRIVER_OK taken back by a reset it did not see', () => {
    const { runner, driver, mock } = setup();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    driver.write(VIRTIO_MMIO_STATUS, 0);
    runner.sync();
    expect(runner.active).toBe(false);
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    expect(runner.active).toBe(true);
  });

  it('does not serve a queue the driver did not set ready', () => {
    const { runner, driver } = setup();
    driver.negotiate(RNG_DEVICE_INFO.availFeatures);
    driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
    runner.sync();
    expect(runner.active).toBe(true);
    runner.processQueue(0); // would throw QUEUE_NOT_READY inside the device
    expect(driver.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
  });

  it('enters NEEDS_RESET with a configuration interrupt when a ready queue is misconfigured', () => {
    const { runner, driver, mock, irq, transport, logs } = setup();
    driver.negotiate(RNG_DEVICE_INFO.availFeatures);
    driver.setupQueue(0, { ...mock, size: 12 } as MockSplitQueue); // not a power of two
    driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
    runner.sync();
    expect(runner.active).toBe(false);
    expect(driver.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(2);
    expect(irq.read()).toBe(1n);
    expect(transport.counters().badQueueConfig).toBe(1);
    expect(logs.join('\n')).toMatch(/queue 0 is misconfigured.*INVALID_SIZE|queue size 12/);
    // A reset clears it and the device can be used again.
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    expect(runner.active).toBe(true);
    expect(driver.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
  });

  it('enters NEEDS_RESET when the device throws, counts it and calls it no more until a reset', () => {
    let calls = 0;
    const device = Object.assign(new RngDevice(), {
      processQueue() {
        calls++;
        throw new Error('backend gone');
      },
    });
    const { runner, driver, mock, transport, logs } = setup(device);
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    runner.processQueue(0);
    runner.processQueue(0);
    expect(calls).toBe(1);
    expect(runner.active).toBe(false);
    expect(transport.counters().deviceErrors).toBe(1);
    expect(driver.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(logs).toEqual(['the device failed: backend gone; the device needs a reset']);
  });

  it('enters NEEDS_RESET when the driver breaks the ring beyond a single chain', () => {
    const { runner, driver, mock, transport } = setup();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    mock.setAvailIdx(1000);
    runner.processQueue(0);
    expect(driver.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(transport.counters().deviceErrors).toBe(0);
  });

  it('lets the device change its configuration space under the generation counter', () => {
    const info: VirtioDeviceInfo = { ...RNG_DEVICE_INFO, configSpace: Uint8Array.of(1, 2, 3, 4) };
    let act: VirtioActivation | undefined;
    const device = Object.assign(new RngDevice(), {
      configSpace: info.configSpace,
      activate(a: VirtioActivation) {
        act = a;
      },
    });
    const { runner, driver, mock, transport } = setup(device, info);
    driver.probe(info.availFeatures, [mock]);
    runner.sync();
    const config = act!.config;
    expect(config.length).toBe(4);
    expect([...config.read(1, 2)]).toEqual([2, 3]);
    config.write(2, Uint8Array.of(9, 9));
    act!.interrupt.signalConfigChange();
    const data = new Uint8Array(4);
    transport.read(VIRTIO_MMIO_CONFIG, data);
    expect([...data]).toEqual([1, 2, 9, 9]);
    expect(driver.read(VIRTIO_MMIO_CONFIG_GENERATION)).toBe(2);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(2);
    expect(() => config.write(3, Uint8Array.of(1, 2))).toThrow(RangeError);
    expect(() => config.read(-1, 1)).toThrow(RangeError);
  });

  it('removes the descriptors a device added when it is reset', () => {
    const extra = eventFd();
    let handled = 0;
    const device = Object.assign(new RngDevice(), {
      activate(a: VirtioActivation) {
        a.eventLoop.add(extra.fd, EPOLLIN, () => {
          extra.read();
          handled++;
        });
      },
    });
    const { runner, driver, mock, loop } = setup(device);
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    runner.sync();
    expect(loop.size).toBe(1);
    extra.write(1);
    loop.runOnce(0);
    expect(handled).toBe(1);
    driver.write(VIRTIO_MMIO_STATUS, 0);
    runner.sync();
    expect(loop.size).toBe(0);
  });

  it('refuses a device that does not match its transport (DEVICE_MISMATCH)', () => {
    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x1000 }]);
    const transport = VirtioMmioTransport.create(RNG_DEVICE_INFO);
    const options = { memory: mem, interrupt: { trigger() {} }, eventLoop: new IoEventLoop() };
    defer(() => options.eventLoop.close());
    for (const device of [
      Object.assign(new RngDevice(), { deviceType: 2 }),
      Object.assign(new RngDevice(), { queueMaxSizes: [256, 256] }),
      Object.assign(new RngDevice(), { availFeatures: 1n << 32n }),
      Object.assign(new RngDevice(), { configSpace: new Uint8Array(1) }),
      { deviceType: 4 },
    ])
      expect(() => new MmioDeviceRunner(device as VirtioDevice, transport.shared, options)).toThrow(
        expect.objectContaining({ code: 'DEVICE_MISMATCH' }),
      );
    expect(
      () =>
        new MmioDeviceRunner(new RngDevice(), { ...transport.shared, info: {} as VirtioDeviceInfo }, options),
    ).toThrow(expect.objectContaining({ code: 'BAD_SHARED_STATE' }));
  });
});
