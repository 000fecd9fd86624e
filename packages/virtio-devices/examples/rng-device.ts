import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { IoThread, rngDeviceSpec, VIRTIO_MMIO_INTERRUPT_STATUS, VirtioMmioTransport } from '../src/index.js';

// Guest RAM that the I/O thread maps too (a VMM uses a memfd-backed GuestMemoryMmap).
const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x10_0000 }], { shared: true });

// Main thread: the I/O thread, and a virtio-rng device's transport. A VMM registers `notify` with
// KVM as the ioeventfd of QueueNotify (datamatch 0) and `irq` as the irqfd of the device's IRQ.
const io = new IoThread({ memory: mem });
const notify = new EventFd(0, EFD_NONBLOCK);
const irq = new EventFd(0, EFD_NONBLOCK);
const spec = rngDeviceSpec();
const transport = VirtioMmioTransport.create(spec.info, {
  notifyFds: [notify.fd],
  irqFd: irq.fd,
  controlFd: io.controlFd,
});
io.addDevice(spec, transport.shared);
await io.start();

// A vCPU thread: the guest driver's 32-bit register writes, handled on the spot.
const write = (offset: number, value: number) =>
  transport.write(offset, new Uint8Array(Uint32Array.of(value).buffer));
const read = (offset: number) => {
  const data = new Uint8Array(4);
  transport.read(offset, data);
  return new DataView(data.buffer).getUint32(0, true);
};
const ring = new MockSplitQueue(mem, 16); // the driver's rings
write(0x70, 1 | 2); // status: ACKNOWLEDGE | DRIVER
write(0x24, 1);
write(0x20, 1); // accept VIRTIO_F_VERSION_1 (bit 32)
write(0x70, 1 | 2 | 8); // FEATURES_OK
write(0x38, 16); // queue 0: size and the three areas
write(0x80, Number(ring.descTable));
write(0x90, Number(ring.availRing));
write(0xa0, Number(ring.usedRing));
write(0x44, 1); // QueueReady
write(0x70, 1 | 2 | 8 | 4); // DRIVER_OK: the I/O thread activates the device

// The guest posts a buffer and notifies; with KVM, the ioeventfd fires without an exit.
const { buffers } = ring.addChain([{ len: 16, write: true }]);
notify.write(1);
while (irq.read() === 0n) await new Promise((resolve) => setTimeout(resolve, 1)); // the irqfd
console.log(read(VIRTIO_MMIO_INTERRUPT_STATUS)); // 1: a used buffer
console.log(ring.takeUsed()[0]?.len); // 16
console.log(Buffer.from(mem.getSlice(buffers[0]!.addr, 16)).toString('hex')); // 16 random bytes

await io.stop();
io.close();
notify.close();
irq.close();
