/**
 * The cost of a virtio request served on the I/O thread, without KVM: the
 * main thread plays the guest (it posts virtio-rng buffers and writes the
 * queue's eventfd, as KVM's ioeventfd would) and spins on the irqfd until
 * the I/O thread has answered. One request per notification is the latency
 * of a request (two thread wake-ups); 64 per notification shows what a
 * notification costs once it is amortised. The same 64 requests served by
 * the device on the calling thread give the device's own share.
 */
import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { afterAll, bench, describe } from 'vitest';
import { IoThread, RNG_DEVICE_INFO, RngDevice, rngDeviceSpec, VirtioMmioTransport } from '../src/index.js';
import { activation } from '../test/support/activation.js';
import { MmioDriver } from '../test/support/mmio-driver.js';

const VERSION_1 = 1n << 32n; // no EVENT_IDX: every used buffer is interrupted

const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x100_0000 }], { shared: true });
const io = new IoThread({ memory: mem });
const notify = new EventFd(0, EFD_NONBLOCK);
const irq = new EventFd(0, EFD_NONBLOCK);
const transport = VirtioMmioTransport.create(RNG_DEVICE_INFO, {
  notifyFds: [notify.fd],
  irqFd: irq.fd,
  controlFd: io.controlFd,
});
io.addDevice(rngDeviceSpec(), transport.shared);
await io.start();
const ring = new MockSplitQueue(mem, 256, { base: 0x1000n });
// Chains are laid out once and only re-published; none is available when the device activates.
const heads = Array.from({ length: 64 }, () => ring.addChain([{ len: 64, write: true }]).head);
ring.setAvailIdx(0);
new MmioDriver(transport).probe(VERSION_1, [ring]);
let published = 0;
let used = 0;

/** Publishes `n` chains, notifies, and spins until the device has used them all. */
function roundTrip(n: number): void {
  for (let i = 0; i < n; i++) ring.publish(heads[(published + i) % heads.length]!);
  published += n;
  notify.write(1);
  used = (used + n) % 65536;
  while (ring.usedIdx !== used); // the used buffers, then the interrupt that follows them
  while (irq.read() === 0n);
}

const local = new MockSplitQueue(mem, 256, { base: 0x80_0000n });
const localHeads = Array.from({ length: 64 }, () => local.addChain([{ len: 64, write: true }]).head);
local.setAvailIdx(0);
const device = new RngDevice();
device.activate(activation(mem, [local.createQueue()], VERSION_1));

afterAll(async () => {
  await io.stop();
  io.close();
  notify.close();
  irq.close();
});

describe('virtio-rng requests of 64 bytes', () => {
  bench('1 request per notification, through the I/O thread (round trip)', () => roundTrip(1));
  bench('64 requests per notification, through the I/O thread', () => roundTrip(64));
  bench('64 requests, the device on the calling thread (no hop)', () => {
    for (const head of localHeads) local.publish(head);
    device.processQueue(0);
  });
});
