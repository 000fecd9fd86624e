/**
 * The zero page (`struct boot_params`) of the 64-bit boot protocol: the
 * kernel's setup header with the fields a loader writes, the memory map,
 * and where the command line and the initrd are. Offsets are those of
 * arch/x86/include/uapi/asm/bootparam.h (Documentation/arch/x86/zero-page.rst).
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { checkE820Entry, type E820Entry } from './e820.js';
import { hex, LinuxLoaderError } from './errors.js';
import { type AddressRange, FOUR_GIB, requireBelow4G, requireRam, u64, uint } from './guest.js';
import type { KernelLoadResult } from './kernel-result.js';
import {
  BOOT_FLAG_MAGIC,
  CAN_USE_HEAP,
  HDRS_MAGIC,
  SETUP_HEADER_OFFSET,
  XLF_CAN_BE_LOADED_ABOVE_4G,
} from './setup-header.js';

/** `sizeof(struct boot_params)`: one page. */
export const BOOT_PARAMS_SIZE = 0x1000;
/** `E820_MAX_ENTRIES_ZEROPAGE`: room for memory map entries in the zero page. */
export const E820_MAX_ENTRIES_ZEROPAGE = 128;
/** `sizeof(struct boot_e820_entry)`: addr u64, size u64, type u32, packed. */
export const BOOT_E820_ENTRY_SIZE = 20;
/** `type_of_loader` of a boot loader without an assigned id. */
export const LOADER_TYPE_UNDEFINED = 0xff;

/** Offsets in `struct boot_params` of the fields this module writes. */
export const BOOT_PARAMS_OFFSETS = {
  acpi_rsdp_addr: 0x070,
  ext_ramdisk_image: 0x0c0,
  ext_ramdisk_size: 0x0c4,
  ext_cmd_line_ptr: 0x0c8,
  e820_entries: 0x1e8,
  sentinel: 0x1ef,
  hdr: 0x1f1,
  e820_table: 0x2d0,
  'hdr.vid_mode': 0x1fa,
  'hdr.boot_flag': 0x1fe,
  'hdr.header': 0x202,
  'hdr.type_of_loader': 0x210,
  'hdr.loadflags': 0x211,
  'hdr.code32_start': 0x214,
  'hdr.ramdisk_image': 0x218,
  'hdr.ramdisk_size': 0x21c,
  'hdr.heap_end_ptr': 0x224,
  'hdr.cmd_line_ptr': 0x228,
  'hdr.setup_data': 0x250,
} as const;

/** Options of {@link writeBootParams}. */
export interface BootParamsOptions {
  /**
   * The loaded kernel. For a bzImage its setup header is copied in (the
   * kernel reads `kernel_alignment` and `init_size` from it while it
   * decompresses) and `code32_start` is set to the load address. For an ELF
   * kernel a minimal header is written: `boot_flag` and `HdrS`.
   */
  kernel?: KernelLoadResult;
  /** Where the command line is and its size in bytes, NUL included (what `loadCmdline` returns). */
  cmdline?: { readonly address: bigint; readonly size: number };
  /** Where the initrd is (what `loadInitrd` returns). */
  initrd?: { readonly address: bigint; readonly size: number };
  /** The memory map, at most 128 entries. */
  e820: readonly E820Entry[];
  /** `type_of_loader`; default 0xff (no assigned id). */
  typeOfLoader?: number;
  /** `vid_mode`; default: the image's (0xffff, "normal", in current kernels). */
  vidMode?: number;
  /** Extra `loadflags` bits to set, e.g. `QUIET_FLAG`. */
  loadflags?: number;
  /** `heap_end_ptr`, for kernels that run their real-mode setup code; sets `CAN_USE_HEAP`. */
  heapEndPtr?: number;
  /** `acpi_rsdp_addr`, when the VMM provides ACPI tables. */
  acpiRsdpAddress?: bigint;
  /** `setup_data`: the guest address of the first `struct setup_data`. */
  setupData?: bigint;
}

/**
 * Builds the zero page in a buffer, after checking everything it points to.
 * @throws LinuxLoaderError `E820_TOO_MANY_ENTRIES`, `CMDLINE_TOO_LONG`,
 * `INITRD_ABOVE_ADDR_MAX`, `ADDRESS_ABOVE_4G`, `BOOT_DATA_OUTSIDE_RAM`.
 */
export function encodeBootParams(mem: GuestMemory, options: BootParamsOptions): Uint8Array {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { e820 } = options;
  if (!Array.isArray(e820)) throw new TypeError('e820 must be an array of memory map entries');
  e820.forEach(checkE820Entry);
  if (e820.length > E820_MAX_ENTRIES_ZEROPAGE) {
    throw new LinuxLoaderError(
      'E820_TOO_MANY_ENTRIES',
      `${e820.length} memory map entries; the zero page holds ${E820_MAX_ENTRIES_ZEROPAGE}`,
    );
  }
  const header = options.kernel?.setupHeader;
  const above4G = header === undefined || (header.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) !== 0;

  const page = new Uint8Array(BOOT_PARAMS_SIZE);
  const view = new DataView(page.buffer);
  const at = BOOT_PARAMS_OFFSETS;
  if (header !== undefined) {
    page.set(header.raw, SETUP_HEADER_OFFSET);
    const load = options.kernel!.loadedRange.start;
    if (load < FOUR_GIB) view.setUint32(at['hdr.code32_start'], Number(load), true);
  } else {
    view.setUint16(at['hdr.boot_flag'], BOOT_FLAG_MAGIC, true);
    view.setUint32(at['hdr.header'], HDRS_MAGIC, true);
  }
  view.setUint8(
    at['hdr.type_of_loader'],
    uint(options.typeOfLoader ?? LOADER_TYPE_UNDEFINED, 0xff, 'typeOfLoader'),
  );
  if (options.vidMode !== undefined)
    view.setUint16(at['hdr.vid_mode'], uint(options.vidMode, 0xffff, 'vidMode'), true);
  let loadflags = page[at['hdr.loadflags']]! | uint(options.loadflags ?? 0, 0xff, 'loadflags');
  if (options.heapEndPtr !== undefined) {
    view.setUint16(at['hdr.heap_end_ptr'], uint(options.heapEndPtr, 0xffff, 'heapEndPtr'), true);
    loadflags |= CAN_USE_HEAP;
  }
  view.setUint8(at['hdr.loadflags'], loadflags);

  if (options.cmdline !== undefined) {
    const address = u64(options.cmdline.address, 'cmdline.address');
    const size = uint(options.cmdline.size, Number.MAX_SAFE_INTEGER, 'cmdline.size');
    requireRam(mem, address, BigInt(size), 'BOOT_DATA_OUTSIDE_RAM', 'the command line');
    if (header !== undefined && size - 1 > header.cmdlineSize) {
      throw new LinuxLoaderError(
        'CMDLINE_TOO_LONG',
        `the command line has ${size - 1} bytes; the kernel reads at most cmdline_size = ${header.cmdlineSize}`,
      );
    }
    if (!above4G) requireBelow4G(address + BigInt(size), 'the command line');
    view.setUint32(at['hdr.cmd_line_ptr'], Number(address & 0xffff_ffffn), true);
    view.setUint32(at.ext_cmd_line_ptr, Number(address >> 32n), true);
  }
  if (options.initrd !== undefined) {
    const address = u64(options.initrd.address, 'initrd.address');
    const size = uint(options.initrd.size, Number.MAX_SAFE_INTEGER, 'initrd.size');
    requireRam(mem, address, BigInt(size), 'BOOT_DATA_OUTSIDE_RAM', 'the initrd');
    if (!above4G && address + BigInt(size) - 1n > BigInt(header!.initrdAddrMax)) {
      throw new LinuxLoaderError(
        'INITRD_ABOVE_ADDR_MAX',
        `the initrd ends at ${hex(address + BigInt(size) - 1n)}, above initrd_addr_max ${hex(header!.initrdAddrMax)}`,
      );
    }
    view.setUint32(at['hdr.ramdisk_image'], Number(address & 0xffff_ffffn), true);
    view.setUint32(at.ext_ramdisk_image, Number(address >> 32n), true);
    view.setUint32(at['hdr.ramdisk_size'], size % 2 ** 32, true);
    view.setUint32(at.ext_ramdisk_size, Math.floor(size / 2 ** 32), true);
  }
  if (options.acpiRsdpAddress !== undefined) {
    view.setBigUint64(at.acpi_rsdp_addr, u64(options.acpiRsdpAddress, 'acpiRsdpAddress'), true);
  }
  if (options.setupData !== undefined) {
    view.setBigUint64(at['hdr.setup_data'], u64(options.setupData, 'setupData'), true);
  }

  view.setUint8(at.e820_entries, e820.length);
  e820.forEach((entry, i) => {
    const base = at.e820_table + i * BOOT_E820_ENTRY_SIZE;
    view.setBigUint64(base, entry.addr, true);
    view.setBigUint64(base + 8, entry.size, true);
    view.setUint32(base + 16, entry.type, true);
  });
  return page;
}

/**
 * Writes the zero page at `address` (any guest RAM; the VMM passes it in
 * `rsi` at the 64-bit entry). The page is built and checked first and then
 * written at once; on an error nothing is written.
 *
 * @returns the page's range, for the VMM to keep free.
 * @throws LinuxLoaderError see {@link encodeBootParams}.
 *
 * @example
 * ```ts
 * writeBootParams(mem, 0x7000n, {
 *   kernel,                                     // from loadKernel
 *   cmdline: loadCmdline(mem, 0x20000n, cmdline),
 *   initrd,                                     // from loadInitrd
 *   e820: memoryMapFromGuestMemory(mem, [{ start: 0x9fc00n, end: 0x100000n }]),
 * });
 * ```
 */
export function writeBootParams(mem: GuestMemory, address: bigint, options: BootParamsOptions): AddressRange {
  u64(address, 'address');
  const page = encodeBootParams(mem, options);
  requireRam(mem, address, BigInt(BOOT_PARAMS_SIZE), 'BOOT_DATA_OUTSIDE_RAM', 'the zero page');
  mem.writeSlice(address, page);
  return { start: address, end: address + BigInt(BOOT_PARAMS_SIZE) };
}
