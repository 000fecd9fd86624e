/**
 * The PVH start of day structure, `struct hvm_start_info` (Xen's
 * xen/include/public/arch-x86/hvm/start_info.h), version 1: the PVH entry
 * point receives its address in `ebx`. Its module list and memory map are
 * written right behind it, so the whole block is one range for the VMM to
 * keep free.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { checkE820Entry, type E820Entry } from './e820.js';
import { LinuxLoaderError } from './errors.js';
import { type AddressRange, requireBelow4G, requireRam, u64, uint } from './guest.js';

/** `XEN_HVM_START_MAGIC_VALUE`: "xEn3" with the 0x80 bit of the "E" set. */
export const XEN_HVM_START_MAGIC_VALUE = 0x336ec578;
/** The structure version written: 1, the first with a memory map. */
export const HVM_START_INFO_VERSION = 1;
/** `sizeof(struct hvm_start_info)` in version 1. */
export const HVM_START_INFO_SIZE = 56;
/** `sizeof(struct hvm_modlist_entry)`. */
export const HVM_MODLIST_ENTRY_SIZE = 32;
/** `sizeof(struct hvm_memmap_table_entry)`. */
export const HVM_MEMMAP_ENTRY_SIZE = 24;
/** Linux copies the PVH memory map into its zero page, which holds this many entries. */
export const HVM_MEMMAP_MAX_ENTRIES = 128;

/** Offsets of the fields of `struct hvm_start_info`. */
export const HVM_START_INFO_OFFSETS = {
  magic: 0,
  version: 4,
  flags: 8,
  nr_modules: 12,
  modlist_paddr: 16,
  cmdline_paddr: 24,
  rsdp_paddr: 32,
  memmap_paddr: 40,
  memmap_entries: 48,
  reserved: 52,
} as const;

/** A module (for Linux: the initrd, the first module) handed to a PVH kernel. */
export interface HvmModule {
  /** Guest address of the module's first byte; not 0 (0 means "absent"). */
  readonly address: bigint;
  /** Size in bytes. */
  readonly size: bigint | number;
  /** Guest address of the module's NUL-terminated command line, if it has one. */
  readonly cmdlineAddress?: bigint;
}

/** Options of {@link writeHvmStartInfo}. */
export interface HvmStartInfoOptions {
  /** Guest address of the kernel's NUL-terminated command line (see `loadCmdline`). */
  cmdlineAddress?: bigint;
  /** The memory map, 1 to 128 entries (Linux cannot boot through PVH without one unless it runs on Xen). */
  memoryMap: readonly E820Entry[];
  /** Modules; Linux takes the first as its initrd. */
  modules?: readonly HvmModule[];
  /** Guest address of the ACPI RSDP, when the VMM provides ACPI tables. */
  rsdpAddress?: bigint;
  /** `SIF_*` flags; default 0. */
  flags?: number;
}

/** Where {@link writeHvmStartInfo} put the structure and its tables. */
export interface HvmStartInfoLayout extends AddressRange {
  /** Guest address of the module list (0 when there are no modules). */
  readonly modlistAddress: bigint;
  /** Guest address of the memory map. */
  readonly memmapAddress: bigint;
}

function nonZeroAddress(value: bigint, what: string): bigint {
  if (u64(value, what) === 0n) throw new RangeError(`${what} cannot be 0, which means "absent"`);
  return value;
}

/**
 * Writes `hvm_start_info` at `address`, the module list and then the memory
 * map right behind it. The block must be RAM below 4 GiB (it is handed over
 * in the 32-bit `ebx`); `address` must be 8-byte aligned and not 0.
 * Everything is checked before anything is written.
 *
 * @throws LinuxLoaderError `BOOT_DATA_OUTSIDE_RAM`, `ADDRESS_ABOVE_4G`, `E820_TOO_MANY_ENTRIES`.
 * @throws RangeError for an empty memory map, a misaligned or zero address.
 */
export function writeHvmStartInfo(
  mem: GuestMemory,
  address: bigint,
  options: HvmStartInfoOptions,
): HvmStartInfoLayout {
  nonZeroAddress(address, 'address');
  if (address % 8n !== 0n) throw new RangeError('address must be 8-byte aligned');
  const { memoryMap } = options;
  const modules = options.modules ?? [];
  if (!Array.isArray(memoryMap) || memoryMap.length === 0) {
    throw new RangeError(
      'memoryMap must be a non-empty array: a PVH guest outside Xen has no other memory map',
    );
  }
  memoryMap.forEach(checkE820Entry);
  if (memoryMap.length > HVM_MEMMAP_MAX_ENTRIES) {
    throw new LinuxLoaderError(
      'E820_TOO_MANY_ENTRIES',
      `${memoryMap.length} memory map entries; Linux takes at most ${HVM_MEMMAP_MAX_ENTRIES}`,
    );
  }
  const modlistAddress = modules.length === 0 ? 0n : address + BigInt(HVM_START_INFO_SIZE);
  const memmapAddress = address + BigInt(HVM_START_INFO_SIZE + modules.length * HVM_MODLIST_ENTRY_SIZE);
  const size =
    HVM_START_INFO_SIZE + modules.length * HVM_MODLIST_ENTRY_SIZE + memoryMap.length * HVM_MEMMAP_ENTRY_SIZE;
  const end = address + BigInt(size);

  const block = new Uint8Array(size);
  const view = new DataView(block.buffer);
  const at = HVM_START_INFO_OFFSETS;
  view.setUint32(at.magic, XEN_HVM_START_MAGIC_VALUE, true);
  view.setUint32(at.version, HVM_START_INFO_VERSION, true);
  view.setUint32(at.flags, uint(options.flags ?? 0, 0xffff_ffff, 'flags'), true);
  view.setUint32(at.nr_modules, modules.length, true);
  view.setBigUint64(at.modlist_paddr, modlistAddress, true);
  if (options.cmdlineAddress !== undefined) {
    view.setBigUint64(at.cmdline_paddr, nonZeroAddress(options.cmdlineAddress, 'cmdlineAddress'), true);
  }
  if (options.rsdpAddress !== undefined) {
    view.setBigUint64(at.rsdp_paddr, nonZeroAddress(options.rsdpAddress, 'rsdpAddress'), true);
  }
  view.setBigUint64(at.memmap_paddr, memmapAddress, true);
  view.setUint32(at.memmap_entries, memoryMap.length, true);
  modules.forEach((m, i) => {
    const base = HVM_START_INFO_SIZE + i * HVM_MODLIST_ENTRY_SIZE;
    const moduleSize =
      typeof m.size === 'number'
        ? BigInt(uint(m.size, Number.MAX_SAFE_INTEGER, `modules[${i}].size`))
        : u64(m.size, `modules[${i}].size`);
    view.setBigUint64(base, nonZeroAddress(m.address, `modules[${i}].address`), true);
    view.setBigUint64(base + 8, moduleSize, true);
    if (m.cmdlineAddress !== undefined) {
      view.setBigUint64(base + 16, nonZeroAddress(m.cmdlineAddress, `modules[${i}].cmdlineAddress`), true);
    }
  });
  memoryMap.forEach((e, i) => {
    const base = Number(memmapAddress - address) + i * HVM_MEMMAP_ENTRY_SIZE;
    view.setBigUint64(base, e.addr, true);
    view.setBigUint64(base + 8, e.size, true);
    view.setUint32(base + 16, e.type, true);
  });

  if (options.cmdlineAddress !== undefined) {
    requireRam(mem, options.cmdlineAddress, 1n, 'BOOT_DATA_OUTSIDE_RAM', 'the command line');
  }
  modules.forEach((m, i) => {
    const moduleSize = view.getBigUint64(HVM_START_INFO_SIZE + i * HVM_MODLIST_ENTRY_SIZE + 8, true);
    if (moduleSize > 0n) requireRam(mem, m.address, moduleSize, 'BOOT_DATA_OUTSIDE_RAM', `module ${i}`);
  });
  requireRam(mem, address, BigInt(size), 'BOOT_DATA_OUTSIDE_RAM', 'hvm_start_info and its tables');
  requireBelow4G(end, 'hvm_start_info and its tables');
  mem.writeSlice(address, block);
  return { start: address, end, modlistAddress, memmapAddress };
}
