import { DirtyBitmap, GuestAddress, GuestMemoryMmap, VmMemoryError } from '../src/index.js';

// 1 MiB of RAM, a hole, and 64 KiB more at 4 GiB: what a VMM hands to KVM.
using mem = GuestMemoryMmap.fromRanges(
  [
    { start: 0n, size: 0x10_0000 },
    { start: 0x1_0000_0000n, size: 0x1_0000 },
  ],
  { backing: 'memfd', dirtyTracking: true },
);
for (const r of mem.regions) {
  // KVM_SET_USER_MEMORY_REGION takes these: guest_phys_addr, memory_size, userspace_addr.
  console.log(r.start.toString(16), r.size.toString(16), typeof r.hostAddress); // 0 100000 bigint, 100000000 10000 bigint
}

// Checked address arithmetic, little-endian accessors.
const header = GuestAddress(0x7000n);
mem.writeU32(GuestAddress.add(header, 4), 0x5346_4e49);
console.log(mem.readU32(0x7004n).toString(16)); // 53464e49

// Guest-controlled addresses fail with a code, never by touching host memory.
try {
  mem.readU64(0x20_0000n); // in the hole
} catch (err) {
  if (err instanceof VmMemoryError) console.log(err.code); // INVALID_ADDRESS
}

// A backend writes straight into guest RAM through a checked view; the page is marked dirty.
mem.getWritableSlice(0x1_0000_1000n, 5).set(new TextEncoder().encode('hello'));
const dirty = mem.regions[1]!.dirtyBitmap!.readAndReset();
console.log(DirtyBitmap.pagesOf(dirty)); // [ 1 ]
