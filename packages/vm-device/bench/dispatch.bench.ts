/**
 * The vCPU exit path through vm-device, each next to its baseline: the same
 * device method called directly, without a bus lookup. The gap is what the
 * IoManager costs per exit. 1000 accesses per iteration.
 */
import { bench, describe } from 'vitest';
import { type DeviceMmio, type DevicePio, IoManager, MmioRange, PioRange, SharedLock } from '../src/index.js';

class Reg implements DevicePio, DeviceMmio {
  value = 0;
  pioRead(_b: number, offset: number, data: Uint8Array): void {
    data[0] = this.value + offset;
  }
  pioWrite(_b: number, _o: number, data: Uint8Array): void {
    this.value = data[0]!;
  }
  mmioRead(_b: bigint, offset: number, data: Uint8Array): void {
    data[0] = this.value + offset;
  }
  mmioWrite(_b: bigint, _o: number, data: Uint8Array): void {
    this.value = data[0]!;
  }
}

const io = new IoManager();
const serial = new Reg();
io.registerPio(new PioRange(0x3f8, 8), serial);
io.registerPio(new PioRange(0x60, 1), new Reg());
// 32 virtio-mmio-like windows; accesses alternate between two of them, defeating the last-hit cache.
const windows = Array.from({ length: 32 }, () => new Reg());
for (const [i, dev] of windows.entries())
  io.registerMmio(new MmioRange(0xd000_0000n + BigInt(i) * 0x1000n, 0x1000n), dev);
const data = new Uint8Array(1);
let sink = 0;

describe('port I/O exit', () => {
  bench('IoManager.pioRead', () => {
    for (let i = 0; i < 1000; i++) {
      io.pioRead(0x3fd, data);
      sink += data[0]!;
    }
  });
  bench('baseline: device.pioRead', () => {
    for (let i = 0; i < 1000; i++) {
      serial.pioRead(0x3f8, 5, data);
      sink += data[0]!;
    }
  });
});

describe('MMIO exit, 32 devices', () => {
  bench('IoManager.mmioWrite, alternating devices (bisection)', () => {
    for (let i = 0; i < 1000; i++) io.mmioWrite(0xd000_0050 + (i & 1) * 0x7000, data);
  });
  bench('IoManager.mmioWrite, same device (cached)', () => {
    for (let i = 0; i < 1000; i++) io.mmioWrite(0xd000_7050, data);
  });
  bench('baseline: device.mmioWrite', () => {
    for (let i = 0; i < 1000; i++) windows[7]!.mmioWrite(0xd000_7000n, 0x50, data);
  });
});

const lock = new SharedLock();
const words = new Int32Array(new SharedArrayBuffer(4));
describe('SharedLock, uncontended', () => {
  bench('lock + unlock', () => {
    for (let i = 0; i < 1000; i++) {
      lock.lock();
      lock.unlock();
    }
  });
  bench('baseline: Atomics.compareExchange + Atomics.sub', () => {
    for (let i = 0; i < 1000; i++) {
      Atomics.compareExchange(words, 0, 0, 1);
      Atomics.sub(words, 0, 1);
    }
  });
});

export { sink };
