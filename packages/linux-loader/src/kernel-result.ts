/**
 * What loading a kernel tells the VMM: where to enter it and which memory it
 * now owns.
 */
import type { AddressRange } from './guest.js';
import type { SetupHeader } from './setup-header.js';

/** The result of `loadKernel`, `loadElf` or `loadBzImage`. */
export interface KernelLoadResult {
  /** Which kind of image was loaded. */
  readonly kind: 'elf' | 'bzimage';
  /**
   * The 64-bit entry point (64-bit boot protocol: long mode, paging on, `rsi`
   * = the zero page): `e_entry` of an ELF, load address + 0x200 of a bzImage.
   */
  readonly entry64: bigint;
  /**
   * The 32-bit PVH entry point (protected mode, paging off, `ebx` = the
   * `hvm_start_info`), when an ELF image carries `XEN_ELFNOTE_PHYS32_ENTRY`.
   */
  readonly pvhEntry?: bigint;
  /** The guest memory the image's bytes were written to (lowest to highest byte). */
  readonly loadedRange: AddressRange;
  /**
   * The memory the kernel occupies until it has read its memory map: the
   * loaded range, and for a bzImage also the `init_size` bytes it
   * decompresses into. Keep the initrd and boot data out of it.
   */
  readonly kernelRange: AddressRange;
  /** The bzImage's setup header, to be copied into the zero page. */
  readonly setupHeader?: SetupHeader;
}
