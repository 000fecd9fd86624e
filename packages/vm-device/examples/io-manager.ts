import { AddressAllocator, type DevicePio, IoManager, PioRange, ResourceAllocator } from '../src/index.js';

// A one-register device: its port reads back the last byte written to it.
class Latch implements DevicePio {
  #value = 0;
  pioRead(_base: number, _offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.#value;
  }
  pioWrite(_base: number, _offset: number, data: Uint8Array): void {
    this.#value = data[0]!;
  }
}

// The builder picks a free port range for the device and registers it.
const resources = new ResourceAllocator({ pio: new AddressAllocator(0x500n, 0x100n) });
const [range] = resources.allocate([{ type: 'pio', size: 1 }]).pioRanges;
const io = new IoManager();
io.registerPio(range ?? new PioRange(0x500, 1), new Latch());

// What a vCPU loop does on KVM_EXIT_IO: `data` is a view of kvm_run's data area.
const data = new Uint8Array(1);
io.pioWrite(0x500, Uint8Array.of(42));
if (io.pioRead(0x500, data) !== 'OK') data.fill(0xff);
console.log(data[0]); // 42
// Nothing decodes port 0x80: x86 reads all ones there.
if (io.pioRead(0x80, data) !== 'OK') data.fill(0xff);
console.log(data[0]); // 255
