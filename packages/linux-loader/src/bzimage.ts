/**
 * bzImage kernels, booted through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"): the
 * protected-mode part of the image (everything after the setup sectors) is
 * loaded high, and the VMM enters it at load address + 0x200 in long mode
 * with `rsi` pointing to a zero page that holds the image's setup header.
 *
 * What is refused, and why:
 * - protocol < 2.12: only 2.12 added `xloadflags`, so an older header cannot
 *   say whether the 64-bit entry at 0x200 exists;
 * - `XLF_KERNEL_64` clear: no 64-bit entry point (a 32-bit kernel);
 * - `LOADED_HIGH` clear: a zImage, which must run from 0x10000 in real mode;
 * - a load address other than 0x100000 when `relocatable_kernel` is 0;
 * - a kernel or its `init_size` decompression area outside guest RAM.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { hex, LinuxLoaderError } from './errors.js';
import { copyToGuest, FOUR_GIB, requireBelow4G, requireRam, spanOf, u64 } from './guest.js';
import { type ImageInput, type ImageSource, withImageSource } from './image-source.js';
import type { KernelLoadResult } from './kernel-result.js';
import {
  LOADED_HIGH,
  parseSetupHeader,
  SETUP_HEADER_MAX_END,
  SETUP_HEADER_OFFSET,
  type SetupHeader,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_KERNEL_64,
} from './setup-header.js';

/** Where a bzImage's protected-mode kernel goes unless told otherwise ("high memory"). */
export const BZIMAGE_DEFAULT_LOAD_ADDRESS = 0x100000n;
/** Offset of the 64-bit entry point from the load address. */
export const BZIMAGE_ENTRY64_OFFSET = 0x200n;
/** Boot protocol 2.12, the first with `xloadflags`. */
export const BZIMAGE_MIN_PROTOCOL = 0x020c;
/** End of `init_size`, the last field this loader needs (protocol 2.10+). */
const REQUIRED_HEADER_END = 0x264;

/** Options of {@link loadBzImage}. */
export interface BzImageOptions {
  /**
   * Guest address for the protected-mode kernel; page-aligned. Default
   * 0x100000. Only a relocatable kernel can go elsewhere.
   */
  loadAddress?: bigint;
}

function fail(code: ConstructorParameters<typeof LinuxLoaderError>[0], message: string): never {
  throw new LinuxLoaderError(code, message);
}

/** Whether the first bytes of an image carry the bzImage magic numbers. */
export function isBzImage(prefix: Uint8Array): boolean {
  if (prefix.length < 0x206) return false;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  return view.getUint16(0x1fe, true) === 0xaa55 && view.getUint32(0x202, true) === 0x53726448;
}

/**
 * Where the kernel runs while it decompresses itself, as head_64.S computes
 * it: a relocatable kernel aligns its load address up to `kernel_alignment`
 * and never goes below `pref_address` (LOAD_PHYSICAL_ADDR); a fixed one runs
 * at `pref_address`. (boot.rst's init_size algorithm, as corrected by commit
 * be4ca6c53e66 "x86/Documentation: Update algo in init_size description".)
 */
export function runtimeStart(header: SetupHeader, loadAddress: bigint): bigint {
  if (header.relocatableKernel === 0) return header.prefAddress === 0n ? loadAddress : header.prefAddress;
  const align = BigInt(header.kernelAlignment);
  const aligned = (loadAddress + align - 1n) & ~(align - 1n);
  return aligned > header.prefAddress ? aligned : header.prefAddress;
}

/**
 * Loads a bzImage's protected-mode kernel into guest memory after checking
 * that it can be booted through the 64-bit boot protocol and that it and
 * its decompression area (`init_size` bytes from its runtime start) are RAM.
 *
 * @param image - the bzImage bytes, an open file descriptor, or a path.
 * @throws LinuxLoaderError a `BZIMAGE_*` code, `KERNEL_OUTSIDE_RAM`,
 * `ADDRESS_ABOVE_4G`, or `IMAGE_READ_FAILED`.
 * @throws RangeError for a load address that is not page-aligned.
 */
export function loadBzImage(
  mem: GuestMemory,
  image: ImageInput,
  options: BzImageOptions = {},
): KernelLoadResult {
  return withImageSource(image, 'image', (source) => loadBzImageFrom(mem, source, options));
}

/** {@link loadBzImage} over an open source. */
export function loadBzImageFrom(
  mem: GuestMemory,
  source: ImageSource,
  options: BzImageOptions = {},
): KernelLoadResult {
  const load = u64(options.loadAddress ?? BZIMAGE_DEFAULT_LOAD_ADDRESS, 'loadAddress');
  if (load % 0x1000n !== 0n) throw new RangeError(`loadAddress ${hex(load)} is not page-aligned`);
  const header = parseSetupHeader(source.bytes(0, Math.min(source.size, SETUP_HEADER_MAX_END)));
  const version = `${header.version >> 8}.${(header.version & 0xff).toString().padStart(2, '0')}`;
  if (header.version < BZIMAGE_MIN_PROTOCOL) {
    fail('BZIMAGE_PROTOCOL_TOO_OLD', `boot protocol ${version} is older than 2.12, which has no xloadflags`);
  }
  if (SETUP_HEADER_OFFSET + header.raw.length < REQUIRED_HEADER_END) {
    fail(
      'BZIMAGE_BAD_HEADER',
      `the setup header ends at ${hex(SETUP_HEADER_OFFSET + header.raw.length)}, before init_size of protocol ${version}`,
    );
  }
  if ((header.loadflags & LOADED_HIGH) === 0)
    fail('BZIMAGE_NOT_LOADED_HIGH', 'LOADED_HIGH is clear: a zImage');
  if ((header.xloadflags & XLF_KERNEL_64) === 0) {
    fail('BZIMAGE_NOT_64BIT', 'XLF_KERNEL_64 is clear: the kernel has no 64-bit entry point');
  }
  if (header.relocatableKernel !== 0) {
    const align = header.kernelAlignment;
    if (align === 0 || (align & (align - 1)) !== 0) {
      fail('BZIMAGE_BAD_HEADER', `kernel_alignment ${hex(align)} is not a power of two`);
    }
  } else if (load !== BZIMAGE_DEFAULT_LOAD_ADDRESS) {
    fail('BZIMAGE_NOT_RELOCATABLE', `the kernel is not relocatable and cannot be loaded at ${hex(load)}`);
  }

  const setupSize = ((header.setupSects === 0 ? 4 : header.setupSects) + 1) * 512;
  if (source.size <= setupSize) {
    fail(
      'BZIMAGE_TRUNCATED',
      `the file has ${source.size} bytes, no more than its ${setupSize} bytes of setup`,
    );
  }
  const kernelSize = source.size - setupSize;
  if (header.syssize * 16 > kernelSize) {
    fail(
      'BZIMAGE_TRUNCATED',
      `syssize says ${header.syssize * 16} bytes of kernel, the file has ${kernelSize}`,
    );
  }
  const loadEnd = load + BigInt(kernelSize);
  if (loadEnd > FOUR_GIB && (header.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) === 0) {
    requireBelow4G(loadEnd, 'the kernel');
  }
  const start = runtimeStart(header, load);
  const end = start + BigInt(header.initSize);
  requireRam(mem, load, BigInt(kernelSize), 'KERNEL_OUTSIDE_RAM', 'the protected-mode kernel');
  if (header.initSize > 0) {
    requireRam(
      mem,
      start,
      BigInt(header.initSize),
      'KERNEL_OUTSIDE_RAM',
      'the decompression area (init_size)',
    );
  }

  copyToGuest(mem, load, source, setupSize, kernelSize);
  return {
    kind: 'bzimage',
    entry64: load + BZIMAGE_ENTRY64_OFFSET,
    loadedRange: { start: load, end: loadEnd },
    kernelRange: spanOf({ start: load, end: loadEnd }, { start, end }),
    setupHeader: header,
  };
}
