import { IoManager, IrqFdEdgeInterrupt, PioRange } from '@tsvmm/vm-device';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import {
  I8042_COMMAND_PORT,
  I8042_DATA_PORT,
  I8042Device,
  SERIAL_PORT_COM1,
  SERIAL_PORT_SIZE,
  Serial,
} from '../src/index.js';

// In a VMM this eventfd is registered with KVM_IRQFD for GSI 4, COM1's IRQ.
const irqfd = new EventFd(0, EFD_NONBLOCK);
const serial = new Serial({
  output: (byte) => process.stdout.write(String.fromCharCode(byte)),
  interrupt: new IrqFdEdgeInterrupt(irqfd),
});
let rebooted = false;
const i8042 = new I8042Device({ onReset: () => (rebooted = true) });

const io = new IoManager();
io.registerPio(new PioRange(SERIAL_PORT_COM1, SERIAL_PORT_SIZE), serial);
io.registerPio(new PioRange(I8042_DATA_PORT, 1), i8042);
io.registerPio(new PioRange(I8042_COMMAND_PORT, 1), i8042);

// The guest, exit by exit: enable FIFOs and the receive interrupt, print a prompt.
io.pioWrite(SERIAL_PORT_COM1 + 2, Uint8Array.of(0x01));
io.pioWrite(SERIAL_PORT_COM1 + 1, Uint8Array.of(0x01));
for (const c of Buffer.from('login: ')) io.pioWrite(SERIAL_PORT_COM1, Uint8Array.of(c));

// Stdin goes into the receive FIFO (when it is full, await serial.whenInputSpace()).
serial.enqueueInput(Buffer.from('root\n'));

// The guest takes the interrupt, reads until LSR.DR clears, then reboots (reboot=k).
const reg = new Uint8Array(1);
let typed = '';
for (;;) {
  io.pioRead(SERIAL_PORT_COM1 + 5, reg);
  if ((reg[0]! & 0x01) === 0) break;
  io.pioRead(SERIAL_PORT_COM1, reg);
  typed += String.fromCharCode(reg[0]!);
}
io.pioWrite(I8042_COMMAND_PORT, Uint8Array.of(0xfe));
console.log(`typed ${JSON.stringify(typed)}, interrupts ${irqfd.read()}, rebooted ${rebooted}`);
// → login: typed "root\n", interrupts 1, rebooted true
irqfd.close();
