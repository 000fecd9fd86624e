import { setTimeout as sleep } from 'node:timers/promises';
import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import type { EventFd } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import {
  IoThread,
  RNG_DEVICE_INFO,
  rngDeviceSpec,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_QUEUE_NOTIFY,
  type VirtioDeviceSpec,
  VirtioMmioTransport,
} from '../../src/index.js';
import { cleanupAfterEach, testEventFd } from '../support/cleanup.js';
import { MmioDriver } from '../support/mmio-driver.js';

const FIXTURES = new URL('../fixtures/misbehaving-devices.mjs', import.meta.url).href;
const defer = cleanupAfterEach();
const eventFd = () => testEventFd(defer);

/** An I/O thread with one device, its transport and a driver, as a VMM and a guest would have them. */
function setup(spec: VirtioDeviceSpec = rngDeviceSpec(), stopTimeoutMs?: number) {
  const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x40_0000 }], { shared: true });
  const logs: string[] = [];
  const io = new IoThread({
    memory: mem,
    log: (m) => logs.push(m),
    ...(stopTimeoutMs === undefined ? {} : { stopTimeoutMs }),
  });
  defer(async () => {
    await io.stop().catch(() => undefined);
    io.close();
  });
  const irq = eventFd();
  const notify = eventFd();
  const transport = VirtioMmioTransport.create(spec.info, {
    notifyFds: [notify.fd],
    irqFd: irq.fd,
    controlFd: io.controlFd,
  });
  io.addDevice(spec, transport.shared);
  return { mem, io, irq, notify, transport, driver: new MmioDriver(transport), logs };
}

/** Waits until the eventfd's counter is non-zero (the guest's interrupt), up to a few seconds. */
async function interrupted(irq: EventFd): Promise<bigint> {
  for (let i = 0; i < 300; i++) {
    const n = irq.read();
    if (n !== 0n) return n;
    await sleep(10);
  }
  throw new Error('no interrupt');
}

describe('IoThread', { timeout: 15_000 }, () => {
  it('serves a device on its worker: DRIVER_OK through the control eventfd, the queue through its eventfd', async () => {
    const { mem, io, irq, notify, driver } = setup();
    await io.start();
    const mock = new MockSplitQueue(mem, 16);
    driver.probe(1n << 32n, [mock]); // VERSION_1 only: an interrupt for every used buffer
    const chain = mock.addChain([{ len: 64, write: true }]);
    notify.write(1); // what KVM's ioeventfd does on the guest's QueueNotify write
    expect(await interrupted(irq)).toBe(1n);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(1);
    expect(mock.takeUsed()).toEqual([{ id: chain.head, len: 64 }]);
    expect(new Set(mem.getSlice(chain.buffers[0]!.addr, 64)).size).toBeGreaterThan(20);
    // A QueueNotify that exits to the VMM instead is forwarded to the same eventfd.
    const second = mock.addChain([{ len: 8, write: true }]);
    driver.write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    await interrupted(irq);
    expect(mock.takeUsed()).toEqual([{ id: second.head, len: 8 }]);
    expect(io.wakeups).toBeGreaterThanOrEqual(2);
    await io.stop();
    expect(io.exited).toBe(true);
    await expect(io.done).resolves.toBeUndefined();
  });

  it('takes a DRIVER_OK written before it started', async () => {
    const { mem, io, irq, notify, driver } = setup();
    const mock = new MockSplitQueue(mem, 16);
    driver.probe(RNG_DEVICE_INFO.availFeatures, [mock]);
    await io.start();
    mock.addChain([{ len: 8, write: true }]);
    notify.write(1);
    await interrupted(irq);
    expect(mock.takeUsed()).toHaveLength(1);
  });

  it('rejects start() when a device cannot be built (DEVICE_FACTORY, DEVICE_MISMATCH)', async () => {
    for (const [factory, code] of [
      ['createFailingDevice', 'DEVICE_FACTORY'],
      ['noSuchExport', 'DEVICE_FACTORY'],
      ['createWrongDevice', 'DEVICE_MISMATCH'],
    ] as const) {
      const { io } = setup({ info: RNG_DEVICE_INFO, module: FIXTURES, factory, options: null });
      await expect(io.start()).rejects.toMatchObject({ code });
      await expect(io.done).rejects.toMatchObject({ code });
    }
    const { io } = setup({
      info: RNG_DEVICE_INFO,
      module: 'file:///nonexistent.js',
      factory: 'f',
      options: null,
    });
    await expect(io.start()).rejects.toMatchObject({ code: 'DEVICE_FACTORY' });
  });

  it('reports a worker that dies while running as IO_THREAD_FAILED, never as a hang', async () => {
    const { mem, io, driver, notify } = setup({
      info: RNG_DEVICE_INFO,
      module: FIXTURES,
      factory: 'createExitingDevice',
      options: null,
    });
    await io.start();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [new MockSplitQueue(mem, 16)]);
    notify.write(1);
    await expect(io.done).rejects.toMatchObject({ code: 'IO_THREAD_FAILED', message: /exited \(code 7\)/ });
  });

  it('terminates a worker that does not stop in time', async () => {
    const { mem, io, driver, notify } = setup(
      { info: RNG_DEVICE_INFO, module: FIXTURES, factory: 'createHangingDevice', options: null },
      200,
    );
    await io.start();
    driver.probe(RNG_DEVICE_INFO.availFeatures, [new MockSplitQueue(mem, 16)]);
    notify.write(1);
    await sleep(50);
    await expect(io.stop()).rejects.toMatchObject({ code: 'IO_THREAD_FAILED' });
    expect(io.exited).toBe(true);
  });

  it('refuses what its state does not allow (IO_THREAD_STATE)', async () => {
    const { io, transport } = setup();
    expect(() => io.done).toThrow(expect.objectContaining({ code: 'IO_THREAD_STATE' }));
    await io.start();
    expect(() => io.addDevice(rngDeviceSpec(), transport.shared)).toThrow(
      expect.objectContaining({ code: 'IO_THREAD_STATE' }),
    );
    expect(() => io.start()).toThrow(expect.objectContaining({ code: 'IO_THREAD_STATE' }));
    expect(() => io.close()).toThrow(expect.objectContaining({ code: 'IO_THREAD_STATE' }));
  });

  it('checks its arguments', () => {
    expect(() => new IoThread({} as never)).toThrow(TypeError);
    const { io, transport } = setup();
    expect(() => io.addDevice(rngDeviceSpec(), { ...transport.shared, controlFd: 999 })).toThrow(TypeError);
    expect(() => io.addDevice({} as never, transport.shared)).toThrow(TypeError);
  });
});
