/**
 * The one error class of this package. Argument mistakes (a wrong type, a
 * negative size) are `TypeError` or `RangeError`; everything that comes from
 * the content of an image, a command line or a memory layout that cannot be
 * booted is a {@link LinuxLoaderError} with a string {@link LinuxLoaderErrorCode}.
 * Nothing is written to guest memory before an image has been validated, so
 * a thrown error leaves guest memory as it was.
 */

/**
 * Why loading or writing boot data failed.
 *
 * Images:
 * - `IMAGE_FORMAT_UNKNOWN`: neither an ELF file nor a bzImage.
 * - `IMAGE_READ_FAILED`: reading the image file failed or ended early.
 * - `KERNEL_OUTSIDE_RAM`: a part of the kernel (a segment, or the memory a
 *   bzImage needs while it decompresses) is not backed by guest RAM.
 *
 * ELF (`vmlinux`):
 * - `ELF_TRUNCATED`: the file ends inside the ELF header or the program headers.
 * - `ELF_BAD_MAGIC`: no `\x7fELF` at offset 0.
 * - `ELF_NOT_64BIT`: `EI_CLASS` is not `ELFCLASS64`.
 * - `ELF_NOT_LITTLE_ENDIAN`: `EI_DATA` is not `ELFDATA2LSB`.
 * - `ELF_BAD_VERSION`: `EI_VERSION` or `e_version` is not `EV_CURRENT`.
 * - `ELF_NOT_EXECUTABLE`: `e_type` is not `ET_EXEC`.
 * - `ELF_WRONG_MACHINE`: `e_machine` is not `EM_X86_64`.
 * - `ELF_BAD_PROGRAM_HEADERS`: `e_phentsize`, `e_phnum` or `e_phoff` cannot describe a program header table.
 * - `ELF_SEGMENT_OUTSIDE_FILE`: a segment's file bytes lie (partly) past the end of the file.
 * - `ELF_SEGMENT_FILESZ_EXCEEDS_MEMSZ`: a `PT_LOAD` segment has `p_filesz > p_memsz`.
 * - `ELF_SEGMENT_OVERFLOW`: `p_paddr + p_memsz` leaves the 64-bit address space.
 * - `ELF_SEGMENTS_OVERLAP`: two `PT_LOAD` segments share guest physical memory.
 * - `ELF_NO_LOAD_SEGMENTS`: nothing to load.
 * - `ELF_ENTRY_OUTSIDE_SEGMENTS`: an entry point (`e_entry` or the PVH entry) is not in a loaded segment.
 * - `ELF_NOTE_TRUNCATED`: a note's header, name or descriptor runs past its `PT_NOTE` segment.
 * - `ELF_PVH_NOTE_INVALID`: the `XEN_ELFNOTE_PHYS32_ENTRY` note has a descriptor
 *   that is not 4 or 8 bytes, or an entry at or above 4 GiB, or appears twice.
 *
 * bzImage:
 * - `BZIMAGE_TRUNCATED`: the file ends before the setup header, the setup code
 *   or the protected-mode kernel that `syssize` announces.
 * - `BZIMAGE_BAD_MAGIC`: `boot_flag` is not 0xAA55 or `header` is not `HdrS`.
 * - `BZIMAGE_BAD_HEADER`: the setup header is shorter than its protocol version
 *   requires, or `kernel_alignment` of a relocatable kernel is not a power of two.
 * - `BZIMAGE_PROTOCOL_TOO_OLD`: boot protocol below 2.12, which has no `xloadflags`
 *   and so cannot say that the 64-bit entry point exists.
 * - `BZIMAGE_NOT_64BIT`: `XLF_KERNEL_64` is clear: no 64-bit entry point at 0x200.
 * - `BZIMAGE_NOT_LOADED_HIGH`: `LOADED_HIGH` is clear (a zImage, loaded at 0x10000).
 * - `BZIMAGE_NOT_RELOCATABLE`: a load address other than 0x100000 was asked
 *   for a kernel whose `relocatable_kernel` is 0.
 *
 * Initrd and boot data:
 * - `INITRD_NO_SPACE`: no page-aligned range of guest RAM below the highest
 *   allowed address and outside the ranges to avoid can hold the initrd.
 * - `BOOT_DATA_OUTSIDE_RAM`: a boot structure (zero page, command line,
 *   `hvm_start_info`, MP table) would not lie entirely in guest RAM.
 * - `ADDRESS_ABOVE_4G`: a 32-bit field (e.g. a bzImage kernel without
 *   `XLF_CAN_BE_LOADED_ABOVE_4G`, the MP table) would have to hold an address at or above 4 GiB.
 * - `INITRD_ABOVE_ADDR_MAX`: the initrd ends above the kernel's `initrd_addr_max`.
 * - `E820_TOO_MANY_ENTRIES`: more than 128 memory map entries for the zero page.
 * - `MPTABLE_INVALID`: an MP table that cannot be described (APIC ids that
 *   collide or exceed 254, no CPUs).
 *
 * Command line (`Cmdline`):
 * - `CMDLINE_INVALID_CHARACTER`: a character that is not printable ASCII (0x20–0x7e).
 * - `CMDLINE_EMPTY_KEY`: `insert` with an empty key.
 * - `CMDLINE_SPACE_IN_KEY`: a space in a key.
 * - `CMDLINE_EQUALS_IN_KEY`: `=` in a key (the kernel splits at the first `=`).
 * - `CMDLINE_QUOTE_IN_KEY`: `"` in a key.
 * - `CMDLINE_SPACE_IN_VALUE`: a space outside double quotes in a value.
 * - `CMDLINE_UNBALANCED_QUOTES`: an odd number of `"`, which would swallow the rest of the line.
 * - `CMDLINE_INIT_SEPARATOR`: a bare `--` in kernel arguments (use `insertInitArgs`).
 * - `CMDLINE_TOO_LONG`: the line and its terminating NUL would not fit the capacity.
 */
export type LinuxLoaderErrorCode =
  | 'IMAGE_FORMAT_UNKNOWN'
  | 'IMAGE_READ_FAILED'
  | 'KERNEL_OUTSIDE_RAM'
  | 'ELF_TRUNCATED'
  | 'ELF_BAD_MAGIC'
  | 'ELF_NOT_64BIT'
  | 'ELF_NOT_LITTLE_ENDIAN'
  | 'ELF_BAD_VERSION'
  | 'ELF_NOT_EXECUTABLE'
  | 'ELF_WRONG_MACHINE'
  | 'ELF_BAD_PROGRAM_HEADERS'
  | 'ELF_SEGMENT_OUTSIDE_FILE'
  | 'ELF_SEGMENT_FILESZ_EXCEEDS_MEMSZ'
  | 'ELF_SEGMENT_OVERFLOW'
  | 'ELF_SEGMENTS_OVERLAP'
  | 'ELF_NO_LOAD_SEGMENTS'
  | 'ELF_ENTRY_OUTSIDE_SEGMENTS'
  | 'ELF_NOTE_TRUNCATED'
  | 'ELF_PVH_NOTE_INVALID'
  | 'BZIMAGE_TRUNCATED'
  | 'BZIMAGE_BAD_MAGIC'
  | 'BZIMAGE_BAD_HEADER'
  | 'BZIMAGE_PROTOCOL_TOO_OLD'
  | 'BZIMAGE_NOT_64BIT'
  | 'BZIMAGE_NOT_LOADED_HIGH'
  | 'BZIMAGE_NOT_RELOCATABLE'
  | 'INITRD_NO_SPACE'
  | 'INITRD_ABOVE_ADDR_MAX'
  | 'BOOT_DATA_OUTSIDE_RAM'
  | 'ADDRESS_ABOVE_4G'
  | 'E820_TOO_MANY_ENTRIES'
  | 'MPTABLE_INVALID'
  | 'CMDLINE_INVALID_CHARACTER'
  | 'CMDLINE_EMPTY_KEY'
  | 'CMDLINE_SPACE_IN_KEY'
  | 'CMDLINE_EQUALS_IN_KEY'
  | 'CMDLINE_QUOTE_IN_KEY'
  | 'CMDLINE_SPACE_IN_VALUE'
  | 'CMDLINE_UNBALANCED_QUOTES'
  | 'CMDLINE_INIT_SEPARATOR'
  | 'CMDLINE_TOO_LONG';

/** Loading a kernel or writing boot data failed; `code` says why, the message says where. */
export class LinuxLoaderError extends Error {
  override name = 'LinuxLoaderError';
  /** Which failure this is. */
  readonly code: LinuxLoaderErrorCode;

  constructor(code: LinuxLoaderErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** `0x`-prefixed lowercase hex, for messages. */
export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}
