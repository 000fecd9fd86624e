/**
 * One entry for both kernel formats: `loadKernel` looks at the image and
 * loads it as an ELF `vmlinux` or as a bzImage.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { type BzImageOptions, isBzImage, loadBzImageFrom } from './bzimage.js';
import { isElf, loadElfFrom } from './elf.js';
import { LinuxLoaderError } from './errors.js';
import { type ImageInput, withImageSource } from './image-source.js';
import type { KernelLoadResult } from './kernel-result.js';

/** Options of {@link loadKernel}; they apply to bzImages (an ELF goes where its headers say). */
export type LoadKernelOptions = BzImageOptions;

/**
 * Loads a Linux kernel, ELF (`vmlinux`, with its PVH entry if it has one) or
 * bzImage, into guest memory. See `loadElf` and `loadBzImage` for what each
 * checks; nothing is written unless the image can be booted.
 *
 * @param image - the image bytes, an open file descriptor, or a path.
 * @throws LinuxLoaderError `IMAGE_FORMAT_UNKNOWN` for anything else, or the
 * error of the format's loader.
 *
 * @example
 * ```ts
 * const kernel = loadKernel(mem, '/path/to/bzImage');
 * kernel.entry64; // 0x100200n
 * ```
 */
export function loadKernel(
  mem: GuestMemory,
  image: ImageInput,
  options: LoadKernelOptions = {},
): KernelLoadResult {
  return withImageSource(image, 'image', (source) => {
    const prefix = source.bytes(0, Math.min(source.size, 0x206));
    if (isElf(prefix)) return loadElfFrom(mem, source);
    if (isBzImage(prefix)) return loadBzImageFrom(mem, source, options);
    throw new LinuxLoaderError('IMAGE_FORMAT_UNKNOWN', 'the image is neither an ELF file nor a bzImage');
  });
}
