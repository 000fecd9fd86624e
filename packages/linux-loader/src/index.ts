export * from './boot-params.js';
export {
  BZIMAGE_DEFAULT_LOAD_ADDRESS,
  BZIMAGE_ENTRY64_OFFSET,
  BZIMAGE_MIN_PROTOCOL,
  type BzImageOptions,
  isBzImage,
  loadBzImage,
  runtimeStart,
} from './bzimage.js';
export { Cmdline } from './cmdline.js';
export * from './e820.js';
export {
  type ElfImage,
  type ElfSegment,
  EM_X86_64,
  ET_EXEC,
  isElf,
  loadElf,
  PT_LOAD,
  PT_NOTE,
  XEN_ELFNOTE_PHYS32_ENTRY,
} from './elf.js';
export { LinuxLoaderError, type LinuxLoaderErrorCode } from './errors.js';
export type { AddressRange } from './guest.js';
export type { ImageInput } from './image-source.js';
export * from './initrd.js';
export * from './kernel.js';
export type { KernelLoadResult } from './kernel-result.js';
export * from './load-cmdline.js';
export * from './mptable.js';
export * from './setup-header.js';
export * from './start-info.js';
