/**
 * The guest physical memory map of the reference VMM (x86-64, no firmware):
 *
 * ```
 * 0x0000_0500  GDT (boot descriptors)             0x0000_0520  IDT (empty)
 * 0x0000_6000  hvm_start_info + its tables (PVH)   0x0000_7000  zero page (boot_params)
 * 0x0000_8ff0  boot stack (grows down)             0x0000_9000  identity-map page tables (6 pages)
 * 0x0002_0000  kernel command line (up to 64 KiB)
 * 0x0009_fc00  EBDA and legacy BIOS area, reserved to 1 MiB; MP floating pointer + table at 0xf_0000
 * 0x0010_0000  kernel (a bzImage loads here; an ELF at its physical addresses), initrd high in RAM
 * 0xc000_0000  32-bit MMIO hole: virtio-mmio windows from 0xd000_0000, I/O APIC 0xfec0_0000,
 *              local APIC 0xfee0_0000, KVM's identity map page and TSS just below 4 GiB
 * 0x1_0000_0000 the rest of RAM, for guests larger than 3 GiB
 * ```
 */
import type { AddressRange } from '@tsvmm/linux-loader';
import type { MemoryRange } from '@tsvmm/vm-memory';

export const GDT_ADDRESS = 0x500n;
export const IDT_ADDRESS = 0x520n;
export const START_INFO_ADDRESS = 0x6000n;
export const ZERO_PAGE_ADDRESS = 0x7000n;
export const BOOT_STACK_POINTER = 0x8ff0n;
export const PAGE_TABLES_ADDRESS = 0x9000n;
export const CMDLINE_ADDRESS = 0x20000n;
export const CMDLINE_MAX_SIZE = 0x10000;
/** In the BIOS area Linux scans for the MP floating pointer; room for 254 CPUs (the EBDA has 1 KiB). */
export const MPTABLE_ADDRESS = 0xf0000n;
/** The EBDA and the legacy VGA/BIOS area: never RAM to the guest. */
export const LEGACY_RESERVED: AddressRange = { start: 0x9fc00n, end: 0x100000n };
export const HIGH_MEMORY_START = 0x100000n;

export const MMIO_HOLE_START = 0xc000_0000n;
export const FOUR_GIB = 0x1_0000_0000n;
/** Where virtio-mmio device windows are allocated (4 KiB each). */
export const VIRTIO_MMIO_START = 0xd000_0000n;
export const VIRTIO_MMIO_END = 0xe000_0000n;
export const IOAPIC_ADDRESS = 0xfec0_0000n;
export const LAPIC_ADDRESS = 0xfee0_0000n;
/** KVM_SET_IDENTITY_MAP_ADDR: one page the VT-x real-mode emulation uses. */
export const KVM_IDENTITY_MAP_ADDRESS = 0xfffb_c000n;
/** KVM_SET_TSS_ADDR: three pages below the identity map. */
export const KVM_TSS_ADDRESS = 0xfffb_d000;

/** The RAM ranges for `bytes` of guest memory: below the MMIO hole, the rest above 4 GiB. */
export function ramRanges(bytes: number): MemoryRange[] {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % 4096 !== 0) {
    throw new RangeError(`guest memory must be a positive multiple of 4096 bytes, got ${bytes}`);
  }
  const low = Number(MMIO_HOLE_START);
  if (bytes <= low) return [{ start: 0n, size: bytes }];
  return [
    { start: 0n, size: low },
    { start: FOUR_GIB, size: bytes - low },
  ];
}
