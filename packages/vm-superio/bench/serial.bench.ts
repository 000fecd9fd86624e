/**
 * The UART on the vCPU exit path, next to its baseline: the same IoManager
 * dispatch to a device that only stores the byte. The gap is the 16550A
 * logic plus the shared-state lock. 1000 accesses per iteration.
 */
import { type DevicePio, IoManager, PioRange } from '@tsvmm/vm-device';
import { bench, describe } from 'vitest';
import { Serial } from '../src/index.js';

let sink = 0;
const serial = new Serial({ output: (b) => (sink += b), interrupt: { trigger: () => sink++ } });
const io = new IoManager();
io.registerPio(new PioRange(0x3f8, 8), serial);
class Store implements DevicePio {
  last = 0;
  pioRead(_b: number, _o: number, data: Uint8Array): void {
    data[0] = this.last;
  }
  pioWrite(_b: number, _o: number, data: Uint8Array): void {
    sink += data[0]!;
  }
}
const plain = new IoManager();
plain.registerPio(new PioRange(0x3f8, 8), new Store());
const byte = Uint8Array.of(0x41);
const input = new Uint8Array(16).fill(0x61);
serial.write(2, 0x81); // FIFOs on, trigger at 8
serial.write(1, 0x03); // receive and THR-empty interrupts

describe('guest transmits a byte (outb to THR)', () => {
  bench('Serial via IoManager', () => {
    for (let i = 0; i < 1000; i++) io.pioWrite(0x3f8, byte);
  });
  bench('baseline: a storing device via IoManager', () => {
    for (let i = 0; i < 1000; i++) plain.pioWrite(0x3f8, byte);
  });
});

describe('guest polls LSR (inb)', () => {
  bench('Serial via IoManager', () => {
    for (let i = 0; i < 1000; i++) io.pioRead(0x3fd, byte);
  });
  bench('baseline: a storing device via IoManager', () => {
    for (let i = 0; i < 1000; i++) plain.pioRead(0x3fd, byte);
  });
});

describe('16 bytes of input, enqueued and read by the guest', () => {
  bench('enqueueInput + 16 × (LSR, RBR)', () => {
    for (let n = 0; n < 1000 / 16; n++) {
      serial.enqueueInput(input);
      for (let i = 0; i < 16; i++) {
        io.pioRead(0x3fd, byte);
        io.pioRead(0x3f8, byte);
      }
    }
  });
});

export { sink };
