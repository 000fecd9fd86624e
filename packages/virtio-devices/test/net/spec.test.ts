/**
 * The network device from the main thread's spec to the I/O thread: the
 * spec opens the TAP and settles the MAC, the factory rebuilds the device on
 * the same descriptor, and on a real I/O thread behind the virtio-mmio
 * transport a ping goes out and its answer comes back, driven by eventfds.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { afterEach, describe, expect, it } from 'vitest';
import { IoThread, VIRTIO_MMIO_INTERRUPT_STATUS, VirtioMmioTransport } from '../../src/index.js';
import { netDeviceInfo } from '../../src/net/device.js';
import { closeNetDeviceSpec, createNet, netDeviceSpec } from '../../src/net/spec.js';
import { MmioDriver } from '../support/mmio-driver.js';
import { echoRequest, parseFrame } from './frames.js';
import { createNetns, GUEST_IP, PEER_IP, tapName } from './netns.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const exists = (name: string) =>
  [...readFileSync('/proc/net/dev', 'utf8').matchAll(/^\s*([^\s:]+):/gm)].some((m) => m[1] === name);

describe('netDeviceSpec', () => {
  it('opens the TAP, settles the MAC and names the built factory; closing it removes a created TAP', () => {
    const name = tapName();
    const spec = netDeviceSpec({ tap: name, create: true, mac: '02:12:34:56:78:9A' });
    try {
      expect(exists(name)).toBe(true);
      expect(spec.info).toEqual(netDeviceInfo({ mac: '02:12:34:56:78:9a' }));
      expect(spec.options).toEqual({ tapFd: expect.any(Number), tapName: name, mac: '02:12:34:56:78:9a' });
      expect(spec.module).toMatch(/\/dist\/net\/spec\.js$/);
      expect(spec.factory).toBe('createNet');
      expect(structuredClone(spec)).toEqual(spec);
    } finally {
      closeNetDeviceSpec(spec);
    }
    expect(exists(name)).toBe(false);
  });

  it('makes up a MAC when none is given, the same in the config space and for the factory', () => {
    const spec = netDeviceSpec({ tap: tapName(), create: true, queueSize: 64 });
    cleanups.push(() => closeNetDeviceSpec(spec));
    expect(spec.info.configSpace.subarray(0, 6)).toEqual(
      Uint8Array.from(spec.options.mac.split(':'), (h) => Number.parseInt(h, 16)),
    );
    expect(spec.info.queueMaxSizes).toEqual([64, 64]);
    const net = createNet(spec.options);
    expect(net.mac).toBe(spec.options.mac);
    expect(net.configSpace).toEqual(spec.info.configSpace);
    expect(net.tap.fd).toBe(spec.options.tapFd);
  });

  it('refuses bad options before opening anything; a missing TAP is BACKEND_OPEN', () => {
    const name = tapName();
    expect(() => netDeviceSpec(null as never)).toThrow(TypeError);
    expect(() => netDeviceSpec({ tap: 'a/b', create: true })).toThrow(RangeError);
    expect(() => netDeviceSpec({ tap: name, create: true, mac: '01:00:00:00:00:01' })).toThrow(RangeError);
    expect(() => netDeviceSpec({ tap: name, create: true, queueSize: 100 })).toThrow(RangeError);
    expect(exists(name)).toBe(false);
    expect(() => netDeviceSpec({ tap: name })).toThrow(expect.objectContaining({ code: 'BACKEND_OPEN' }));
    expect(() => createNet(null as never)).toThrow(TypeError);
  });
});

describe('on the I/O thread behind virtio-mmio', () => {
  it('the driver reads the MAC, a ping goes out through the TX eventfd and the answer raises the interrupt', {
    timeout: 20_000,
  }, async () => {
    const ns = createNetns();
    cleanups.push(() => ns.remove());
    const mac = '02:00:00:00:00:02';
    const spec = netDeviceSpec({ tap: tapName(), create: true, mac });
    ns.adopt(spec.options.tapName, mac);
    const peerMac = JSON.parse(ns.exec('ip', '-j', 'link', 'show', spec.options.tapName))[0].address;

    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x40_0000 }], { shared: true });
    const logs: string[] = [];
    const io = new IoThread({ memory: mem, log: (m) => logs.push(m) });
    cleanups.push(async () => {
      await io.stop().catch(() => undefined);
      io.close();
    });
    const fds = [0, 1, 2].map(() => new EventFd(0, EFD_NONBLOCK));
    cleanups.push(() => {
      for (const fd of fds) fd.close();
    });
    const [irq, rxNotify, txNotify] = fds as [EventFd, EventFd, EventFd];
    const transport = VirtioMmioTransport.create(spec.info, {
      notifyFds: [rxNotify.fd, txNotify.fd],
      irqFd: irq.fd,
      controlFd: io.controlFd,
    });
    io.addDevice(spec, transport.shared);
    await io.start();

    const driver = new MmioDriver(transport);
    const rx = new MockSplitQueue(mem, 16, { base: 0x1000n, dataBase: 0x10000n });
    const tx = new MockSplitQueue(mem, 16, { base: 0x4000n, dataBase: 0x20000n });
    driver.probe(spec.info.availFeatures, [rx, tx]);
    // Linux reads the MAC a byte at a time and the status as a u16.
    const config = (offset: number, size: number) => {
      const data = new Uint8Array(size);
      transport.read(0x100 + offset, data);
      return [...data];
    };
    expect([0, 1, 2, 3, 4, 5].flatMap((i) => config(i, 1))).toEqual([2, 0, 0, 0, 0, 2]);
    expect(config(6, 2)).toEqual([1, 0]);

    const rxChain = rx.addChain([{ len: 1530, write: true }]);
    rxNotify.write(1);
    const data = new TextEncoder().encode('through the I/O thread');
    const frame = echoRequest({ srcMac: mac, dstMac: peerMac, srcIp: GUEST_IP, dstIp: PEER_IP }, 1, 1, data);
    tx.addChain([{ data: new Uint8Array(12) }, { data: frame }]);
    txNotify.write(1);

    let used: Array<{ id: number; len: number }> = [];
    for (let i = 0; i < 300 && used.length === 0; i++) {
      await sleep(10);
      used = rx.takeUsed();
    }
    expect(used).toEqual([{ id: rxChain.head, len: expect.any(Number) }]);
    const reply = mem.getSlice(rxChain.buffers[0]!.addr, used[0]!.len);
    expect([...reply.subarray(0, 12)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(parseFrame(reply.subarray(12))?.icmp).toMatchObject({ type: 0, seq: 1, data });
    expect(tx.takeUsed()).toHaveLength(1);
    expect(irq.read()).toBeGreaterThan(0n);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS) & 1).toBe(1);
    expect(logs).toEqual([]);
  });
});
