/**
 * The bzImage setup header (`struct setup_header`), at offset 0x1f1 of the
 * image and of the zero page: its layout (Documentation/arch/x86/boot.rst,
 * "The Real-Mode Kernel Header") and the flags a loader reads.
 */
import { hex, LinuxLoaderError } from './errors.js';

/** `boot_flag`: the 0xAA55 every bzImage carries at 0x1fe. */
export const BOOT_FLAG_MAGIC = 0xaa55;
/** `header`: "HdrS" at 0x202, read as a little-endian u32. */
export const HDRS_MAGIC = 0x53726448;
/** loadflags bit 0: the protected-mode kernel is loaded at 0x100000 (a bzImage). */
export const LOADED_HIGH = 1 << 0;
/** loadflags bit 1: set by the kernel when KASLR is on. */
export const KASLR_FLAG = 1 << 1;
/** loadflags bit 5: ask the early kernel not to print. */
export const QUIET_FLAG = 1 << 5;
/** loadflags bit 6: obsolete since Linux 5.11 (kernels ignore it); this loader never sets it. */
export const KEEP_SEGMENTS = 1 << 6;
/** loadflags bit 7: `heap_end_ptr` is valid. */
export const CAN_USE_HEAP = 1 << 7;
/** xloadflags bit 0: the kernel has the 64-bit entry point at load address + 0x200. */
export const XLF_KERNEL_64 = 1 << 0;
/** xloadflags bit 1: kernel, boot_params, command line and ramdisk may lie above 4 GiB. */
export const XLF_CAN_BE_LOADED_ABOVE_4G = 1 << 1;
/** xloadflags bit 2: 32-bit EFI handover entry. */
export const XLF_EFI_HANDOVER_32 = 1 << 2;
/** xloadflags bit 3: 64-bit EFI handover entry. */
export const XLF_EFI_HANDOVER_64 = 1 << 3;
/** xloadflags bit 4: kexec EFI boot with EFI runtime support. */
export const XLF_EFI_KEXEC = 1 << 4;

/** Offset of the setup header in the image and in `struct boot_params`. */
export const SETUP_HEADER_OFFSET = 0x1f1;
/** Where the room for the setup header in `struct boot_params` ends (`_pad7`). */
export const SETUP_HEADER_MAX_END = 0x290;

/** The fields of `struct setup_header`: C name, key in {@link SetupHeader}, offset in boot_params, size. */
export const SETUP_HEADER_FIELDS = [
  ['setup_sects', 'setupSects', 0x1f1, 1],
  ['root_flags', 'rootFlags', 0x1f2, 2],
  ['syssize', 'syssize', 0x1f4, 4],
  ['ram_size', 'ramSize', 0x1f8, 2],
  ['vid_mode', 'vidMode', 0x1fa, 2],
  ['root_dev', 'rootDev', 0x1fc, 2],
  ['boot_flag', 'bootFlag', 0x1fe, 2],
  ['jump', 'jump', 0x200, 2],
  ['header', 'header', 0x202, 4],
  ['version', 'version', 0x206, 2],
  ['realmode_swtch', 'realmodeSwtch', 0x208, 4],
  ['start_sys_seg', 'startSysSeg', 0x20c, 2],
  ['kernel_version', 'kernelVersion', 0x20e, 2],
  ['type_of_loader', 'typeOfLoader', 0x210, 1],
  ['loadflags', 'loadflags', 0x211, 1],
  ['setup_move_size', 'setupMoveSize', 0x212, 2],
  ['code32_start', 'code32Start', 0x214, 4],
  ['ramdisk_image', 'ramdiskImage', 0x218, 4],
  ['ramdisk_size', 'ramdiskSize', 0x21c, 4],
  ['bootsect_kludge', 'bootsectKludge', 0x220, 4],
  ['heap_end_ptr', 'heapEndPtr', 0x224, 2],
  ['ext_loader_ver', 'extLoaderVer', 0x226, 1],
  ['ext_loader_type', 'extLoaderType', 0x227, 1],
  ['cmd_line_ptr', 'cmdLinePtr', 0x228, 4],
  ['initrd_addr_max', 'initrdAddrMax', 0x22c, 4],
  ['kernel_alignment', 'kernelAlignment', 0x230, 4],
  ['relocatable_kernel', 'relocatableKernel', 0x234, 1],
  ['min_alignment', 'minAlignment', 0x235, 1],
  ['xloadflags', 'xloadflags', 0x236, 2],
  ['cmdline_size', 'cmdlineSize', 0x238, 4],
  ['hardware_subarch', 'hardwareSubarch', 0x23c, 4],
  ['hardware_subarch_data', 'hardwareSubarchData', 0x240, 8],
  ['payload_offset', 'payloadOffset', 0x248, 4],
  ['payload_length', 'payloadLength', 0x24c, 4],
  ['setup_data', 'setupData', 0x250, 8],
  ['pref_address', 'prefAddress', 0x258, 8],
  ['init_size', 'initSize', 0x260, 4],
  ['handover_offset', 'handoverOffset', 0x264, 4],
  ['kernel_info_offset', 'kernelInfoOffset', 0x268, 4],
] as const;

/**
 * A parsed setup header. Each field is the C field of the same name
 * (`setupSects` is `setup_sects`); fields past the end of the image's
 * header (newer than its protocol) read as 0.
 */
export interface SetupHeader {
  readonly setupSects: number;
  readonly rootFlags: number;
  readonly syssize: number;
  readonly ramSize: number;
  readonly vidMode: number;
  readonly rootDev: number;
  readonly bootFlag: number;
  readonly jump: number;
  readonly header: number;
  /** Boot protocol version, (major << 8) | minor, e.g. 0x020f for 2.15. */
  readonly version: number;
  readonly realmodeSwtch: number;
  readonly startSysSeg: number;
  readonly kernelVersion: number;
  readonly typeOfLoader: number;
  readonly loadflags: number;
  readonly setupMoveSize: number;
  readonly code32Start: number;
  readonly ramdiskImage: number;
  readonly ramdiskSize: number;
  readonly bootsectKludge: number;
  readonly heapEndPtr: number;
  readonly extLoaderVer: number;
  readonly extLoaderType: number;
  readonly cmdLinePtr: number;
  /** Highest address the initrd may occupy (its last byte), unless `XLF_CAN_BE_LOADED_ABOVE_4G`. */
  readonly initrdAddrMax: number;
  readonly kernelAlignment: number;
  readonly relocatableKernel: number;
  readonly minAlignment: number;
  readonly xloadflags: number;
  /** Longest command line the kernel reads, without its NUL. */
  readonly cmdlineSize: number;
  readonly hardwareSubarch: number;
  readonly hardwareSubarchData: bigint;
  readonly payloadOffset: number;
  readonly payloadLength: number;
  readonly setupData: bigint;
  readonly prefAddress: bigint;
  /** Bytes the kernel needs from its runtime start address until it has read its memory map. */
  readonly initSize: number;
  readonly handoverOffset: number;
  readonly kernelInfoOffset: number;
  /**
   * The header as the image has it, from 0x1f1 to its end (0x202 plus the
   * byte at 0x201), at most up to 0x290: what a loader copies into the zero page.
   */
  readonly raw: Uint8Array;
}

/**
 * Parses the setup header from the first bytes of a bzImage (at least the
 * first 0x290 bytes, or the whole file if it is shorter).
 * @throws LinuxLoaderError `BZIMAGE_TRUNCATED` if the bytes end before the
 * header does; `BZIMAGE_BAD_MAGIC` without 0xAA55 and "HdrS".
 */
export function parseSetupHeader(image: Uint8Array): SetupHeader {
  if (image.length < 0x206) {
    throw new LinuxLoaderError('BZIMAGE_TRUNCATED', `${image.length} bytes are too few for a setup header`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const bootFlag = view.getUint16(0x1fe, true);
  const magic = view.getUint32(0x202, true);
  if (bootFlag !== BOOT_FLAG_MAGIC || magic !== HDRS_MAGIC) {
    throw new LinuxLoaderError(
      'BZIMAGE_BAD_MAGIC',
      `boot_flag ${hex(bootFlag)} and header ${hex(magic)} are not 0xaa55 and "HdrS"`,
    );
  }
  const end = Math.min(0x202 + view.getInt8(0x201), SETUP_HEADER_MAX_END);
  if (end > image.length) {
    throw new LinuxLoaderError(
      'BZIMAGE_TRUNCATED',
      `the setup header ends at ${hex(end)}, past the end of the file`,
    );
  }
  const fields: Record<string, number | bigint | Uint8Array> = {};
  for (const [, key, offset, size] of SETUP_HEADER_FIELDS) {
    const present = offset + size <= end;
    if (size === 8) fields[key] = present ? view.getBigUint64(offset, true) : 0n;
    else if (!present) fields[key] = 0;
    else if (size === 4) fields[key] = view.getUint32(offset, true);
    else if (size === 2) fields[key] = view.getUint16(offset, true);
    else fields[key] = view.getUint8(offset);
  }
  fields.raw = image.slice(SETUP_HEADER_OFFSET, Math.max(end, SETUP_HEADER_OFFSET));
  return fields as unknown as SetupHeader;
}
