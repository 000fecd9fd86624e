/**
 * Placing the initrd: as high in guest RAM as the kernel allows, on a page
 * boundary, outside the memory the kernel and the boot data occupy. High,
 * because the kernel decompresses and allocates upwards from low memory, and
 * a bzImage's KASLR picks its place around what the loader used.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { hex, LinuxLoaderError } from './errors.js';
import { type AddressRange, copyToGuest, ramRuns, subtractRange, u64, uint } from './guest.js';
import { type ImageInput, withImageSource } from './image-source.js';
import type { KernelLoadResult } from './kernel-result.js';
import { XLF_CAN_BE_LOADED_ABOVE_4G } from './setup-header.js';

/** Options of {@link loadInitrd}. */
export interface InitrdOptions {
  /**
   * The highest address the initrd may occupy (its last byte, as
   * `initrd_addr_max` counts); default: no limit but guest RAM. See
   * {@link initrdAddressLimit}.
   */
  highestAddress?: bigint | undefined;
  /** Ranges the initrd must not overlap: the kernel's `kernelRange`, the boot data. */
  avoid?: readonly AddressRange[];
  /** Alignment of the start address, a power of two; default 4096. */
  alignment?: number;
}

/** Where an initrd was put. */
export interface InitrdLoadResult {
  /** Guest address of its first byte. */
  readonly address: bigint;
  /** Its size in bytes. */
  readonly size: number;
}

/**
 * The highest address a kernel lets its initrd occupy: a bzImage's
 * `initrd_addr_max`, unless its `XLF_CAN_BE_LOADED_ABOVE_4G` lifts the limit;
 * none for an ELF kernel (the 64-bit and PVH paths read 64-bit addresses).
 */
export function initrdAddressLimit(kernel: KernelLoadResult): bigint | undefined {
  const header = kernel.setupHeader;
  if (header === undefined || (header.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) !== 0) return undefined;
  return BigInt(header.initrdAddrMax);
}

/**
 * The highest `alignment`-aligned address at which `size` bytes fit in guest
 * RAM, end at or below `highestAddress + 1`, and overlap no range of `avoid`.
 * @throws LinuxLoaderError `INITRD_NO_SPACE` if there is none.
 */
export function placeInitrd(mem: GuestMemory, size: number, options: InitrdOptions = {}): bigint {
  const alignment = BigInt(options.alignment ?? 4096);
  if (alignment <= 0n || (alignment & (alignment - 1n)) !== 0n) {
    throw new RangeError(`alignment must be a power of two, got ${options.alignment}`);
  }
  const limit =
    options.highestAddress === undefined ? undefined : u64(options.highestAddress, 'highestAddress') + 1n;
  let free = ramRuns(mem).map((r) =>
    limit !== undefined && r.end > limit ? { start: r.start, end: limit } : r,
  );
  free = free.filter((r) => r.start < r.end);
  for (const a of options.avoid ?? []) {
    free = subtractRange(free, { start: u64(a.start, 'avoid.start'), end: u64(a.end, 'avoid.end') });
  }
  let best: bigint | undefined;
  for (const r of free) {
    if (r.end - r.start < BigInt(size)) continue;
    const address = (r.end - BigInt(size)) & ~(alignment - 1n);
    if (address >= r.start && (best === undefined || address > best)) best = address;
  }
  if (best === undefined) {
    const below = limit === undefined ? '' : ` below ${hex(limit)}`;
    throw new LinuxLoaderError(
      'INITRD_NO_SPACE',
      `no free range of guest RAM${below} holds an initrd of ${size} bytes`,
    );
  }
  return best;
}

/**
 * Loads an initrd (an initramfs cpio archive or a disk image) as high in
 * guest RAM as allowed; see {@link placeInitrd}. A file is read straight
 * into guest memory.
 *
 * @param image - the initrd bytes, an open file descriptor, or a path.
 * @throws LinuxLoaderError `INITRD_NO_SPACE`, `IMAGE_READ_FAILED`.
 * @throws RangeError for an empty initrd or a bad alignment.
 *
 * @example
 * ```ts
 * const initrd = loadInitrd(mem, '/path/initramfs.cpio', {
 *   highestAddress: initrdAddressLimit(kernel),
 *   avoid: [kernel.kernelRange],
 * });
 * ```
 */
export function loadInitrd(
  mem: GuestMemory,
  image: ImageInput,
  options: InitrdOptions = {},
): InitrdLoadResult {
  return withImageSource(image, 'initrd', (source) => {
    const size = uint(source.size, Number.MAX_SAFE_INTEGER, 'the initrd size');
    if (size === 0) throw new RangeError('the initrd is empty');
    const address = placeInitrd(mem, size, options);
    copyToGuest(mem, address, source, 0, size);
    return { address, size };
  });
}
