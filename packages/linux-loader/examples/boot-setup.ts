import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import {
  Cmdline,
  initrdAddressLimit,
  loadCmdline,
  loadInitrd,
  loadKernel,
  memoryMapFromGuestMemory,
  writeBootParams,
  writeMpTable,
} from '../src/index.js';

// 128 MiB of guest RAM at 0 (a GuestMemoryMmap, which KVM can map, works the same).
const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 128 << 20 }]);
const { KERNEL = 'bzImage', INITRD = 'initramfs.cpio' } = process.env; // a bzImage or vmlinux, an initrd

// Boot data lives below 1 MiB, which Linux keeps for itself; the MP table where Linux looks for it.
const ZERO_PAGE = 0x7000n;
const CMDLINE = 0x20000n;
const MP_TABLE = 0x9fc00n;

const kernel = loadKernel(mem, KERNEL); // read from the file straight into guest memory
const cmdline = new Cmdline(kernel.setupHeader ? kernel.setupHeader.cmdlineSize + 1 : 4096)
  .insertStr('console=ttyS0 panic=-1')
  .addVirtioMmioDevice(0x1000n, 0xd0000000n, 5);
const initrd = loadInitrd(mem, INITRD, {
  highestAddress: initrdAddressLimit(kernel),
  avoid: [kernel.kernelRange],
});
const mpTable = writeMpTable(mem, MP_TABLE, { cpus: 2 });
writeBootParams(mem, ZERO_PAGE, {
  kernel,
  cmdline: loadCmdline(mem, CMDLINE, cmdline),
  initrd,
  e820: memoryMapFromGuestMemory(mem, [{ start: mpTable.start, end: 0x100000n }]),
});

// A vCPU now enters the kernel in long mode at entry64 with rsi = ZERO_PAGE.
console.log(kernel.kind, kernel.entry64.toString(16)); // bzimage 100200
console.log(cmdline.toString()); // console=ttyS0 panic=-1 virtio_mmio.device=4K@0xd0000000:5
console.log(initrd.address + BigInt(initrd.size) <= 128n << 20n); // true: as high as fits, page-aligned
