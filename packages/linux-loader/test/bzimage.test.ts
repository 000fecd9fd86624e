import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BZIMAGE_DEFAULT_LOAD_ADDRESS,
  type LinuxLoaderErrorCode,
  loadBzImage,
  loadKernel,
  parseSetupHeader,
  SETUP_HEADER_FIELDS,
} from '../src/index.js';
import { decodeBootParams } from './support/bootparam-c.js';
import { buildBzImage, type TestBzImage } from './support/bzimage-builder.js';
import { pattern } from './support/elf-builder.js';
import { errorOf } from './support/errors.js';
import { KIT_TIMEOUT, type TestImages, testImages } from './support/images.js';
import { changedRuns, guestRam, MiB, readGuest, snapshot } from './support/memory.js';

/**
 * Loads a real bzImage and checks everything against the image bytes as the
 * kernel's `struct boot_params` (compiled from <asm/bootparam.h>) reads them.
 */
function checkRealBzImage(path: string): void {
  const file = readFileSync(path);
  const c = decodeBootParams(file.subarray(0, 0x1000)).hdr;
  expect(c.boot_flag).toBe(0xaa55n);
  expect(c.header).toBe(0x53726448n);
  const mem = guestRam([{ start: 0n, size: 256 * MiB }]);
  const before = snapshot(mem);
  const result = loadKernel(mem, path);
  expect(result.kind).toBe('bzimage');
  const header = result.setupHeader!;
  for (const [cName, key] of SETUP_HEADER_FIELDS) {
    expect(BigInt(header[key]), cName).toBe(c[cName]);
  }
  const jumpEnd = 0x202 + file[0x201]!;
  expect(header.raw).toEqual(new Uint8Array(file.subarray(0x1f1, jumpEnd)));

  const setupSize = (Number(c.setup_sects) || 4) * 512 + 512;
  const kernelSize = file.length - setupSize;
  expect(Number(c.syssize) * 16).toBeLessThanOrEqual(kernelSize);
  expect(result.entry64).toBe(0x100200n);
  expect(result.loadedRange).toEqual({ start: 0x100000n, end: 0x100000n + BigInt(kernelSize) });
  expect(Buffer.compare(Buffer.from(readGuest(mem, 0x100000n, kernelSize)), file.subarray(setupSize))).toBe(
    0,
  );
  expect(changedRuns(mem, before).every(([s, e]) => s >= 0x100000n && e <= result.loadedRange.end)).toBe(
    true,
  );

  // Where head_64.S decompresses: a relocatable kernel at max(align_up(load, kernel_alignment),
  // pref_address), a fixed one at pref_address.
  const align = c.kernel_alignment;
  const aligned = (0x100000n + align - 1n) & ~(align - 1n);
  const runtime = c.relocatable_kernel === 0n || c.pref_address > aligned ? c.pref_address : aligned;
  expect(result.kernelRange).toEqual({ start: 0x100000n, end: runtime + c.init_size });
}

describe('real bzImages', () => {
  let images: TestImages;
  beforeAll(async () => {
    images = await testImages();
  }, KIT_TIMEOUT);

  it("loads Debian's stock bzImage as its header says", () => {
    const { debianBzImage } = images;
    const header = parseSetupHeader(readFileSync(debianBzImage).subarray(0, 0x290));
    expect(header.version).toBeGreaterThanOrEqual(0x020c);
    checkRealBzImage(debianBzImage);
  }, 60_000);

  it("loads the guest kit's bzImage", () => {
    checkRealBzImage(images.bzImage);
  }, 60_000);
});

describe('bzImage placement', () => {
  const mem = () => guestRam([{ start: 0n, size: 48 * MiB }]);

  it('loads the protected-mode kernel after the setup sectors, 0 of them meaning 4', () => {
    for (const setupSects of [0, 4, 1, 30]) {
      const m = mem();
      const image = buildBzImage({ setupSects });
      const result = loadBzImage(m, image);
      const setupSize = ((setupSects || 4) + 1) * 512;
      expect(readGuest(m, BZIMAGE_DEFAULT_LOAD_ADDRESS, image.length - setupSize)).toEqual(
        image.subarray(setupSize),
      );
      expect(result.setupHeader!.setupSects).toBe(setupSects);
    }
  });

  it('reserves init_size from where the kernel runs while decompressing', () => {
    const cases: Array<[TestBzImage, bigint, bigint]> = [
      // relocatable: max(align_up(load, kernel_alignment), pref_address)
      [{}, 0x100000n, 0x1000000n],
      [{}, 0x2000000n, 0x2000000n],
      [{}, 0x2001000n, 0x2200000n],
      [{ prefAddress: 0n }, 0x101000n, 0x200000n],
      // not relocatable: pref_address
      [{ relocatable: 0 }, 0x100000n, 0x1000000n],
    ];
    for (const [spec, load, runtime] of cases) {
      const result = loadBzImage(mem(), buildBzImage({ ...spec, initSize: 0x400000 }), { loadAddress: load });
      expect(result.entry64).toBe(load + 0x200n);
      const loadEnd = load + 0x3000n;
      expect(result.loadedRange).toEqual({ start: load, end: loadEnd });
      // The loaded kernel and the decompression area, as one range.
      const edges = [load, loadEnd, runtime, runtime + 0x400000n].sort((a, b) => (a < b ? -1 : 1));
      expect(result.kernelRange).toEqual({ start: edges[0], end: edges[3] });
    }
  });

  it('checks the load address', () => {
    expect(() => loadBzImage(mem(), buildBzImage(), { loadAddress: 0x100800n })).toThrow(RangeError);
    expect(() => loadBzImage(mem(), buildBzImage(), { loadAddress: -1n })).toThrow(RangeError);
    expect(() => loadBzImage(mem(), buildBzImage(), { loadAddress: 0x100000 as unknown as bigint })).toThrow(
      TypeError,
    );
  });

  it('loads above 4 GiB when XLF_CAN_BE_LOADED_ABOVE_4G allows it', () => {
    const m = guestRam([
      { start: 0n, size: 32 * MiB },
      { start: 0x1_0000_0000n, size: 32 * MiB },
    ]);
    const result = loadBzImage(m, buildBzImage({ prefAddress: 0n }), { loadAddress: 0x1_0000_0000n });
    expect(result.kernelRange).toEqual({ start: 0x1_0000_0000n, end: 0x1_0080_0000n });
  });
});

describe('bzImages that cannot be booted', () => {
  const longKernel = buildBzImage({ kernel: pattern(0x100) });
  const cases: Array<[string, Uint8Array, LinuxLoaderErrorCode, { loadAddress?: bigint }?]> = [
    ['a file shorter than the header', buildBzImage({ truncate: 0x203 }), 'BZIMAGE_TRUNCATED'],
    ['a header running past the file', buildBzImage({ truncate: 0x220 }), 'BZIMAGE_TRUNCATED'],
    ['no kernel after the setup sectors', buildBzImage({ truncate: 5 * 512 }), 'BZIMAGE_TRUNCATED'],
    ['setup sectors past the file', buildBzImage({ setupSects: 200, truncate: 0x2000 }), 'BZIMAGE_TRUNCATED'],
    ['syssize larger than the kernel', buildBzImage({ syssize: 0x1000 }), 'BZIMAGE_TRUNCATED'],
    ['no 0xAA55', buildBzImage({ bootFlag: 0x1234 }), 'BZIMAGE_BAD_MAGIC'],
    ['no HdrS', buildBzImage({ magic: 0x12345678 }), 'BZIMAGE_BAD_MAGIC'],
    ['protocol 2.11', buildBzImage({ version: 0x020b }), 'BZIMAGE_PROTOCOL_TOO_OLD'],
    ['protocol 2.00', buildBzImage({ version: 0x0200 }), 'BZIMAGE_PROTOCOL_TOO_OLD'],
    ['a header too short for its protocol', buildBzImage({ headerLength: 0x40 }), 'BZIMAGE_BAD_HEADER'],
    ['a kernel_alignment of 3 MiB', buildBzImage({ kernelAlignment: 0x300000 }), 'BZIMAGE_BAD_HEADER'],
    ['a kernel_alignment of 0', buildBzImage({ kernelAlignment: 0 }), 'BZIMAGE_BAD_HEADER'],
    ['a zImage', buildBzImage({ loadflags: 0 }), 'BZIMAGE_NOT_LOADED_HIGH'],
    ['a 32-bit kernel', buildBzImage({ xloadflags: 0x02 }), 'BZIMAGE_NOT_64BIT'],
    [
      'a fixed kernel at another address',
      buildBzImage({ relocatable: 0 }),
      'BZIMAGE_NOT_RELOCATABLE',
      { loadAddress: 0x200000n },
    ],
    ['an init_size past guest RAM', buildBzImage({ initSize: 0x7fff_0000 }), 'KERNEL_OUTSIDE_RAM'],
    ['a pref_address past guest RAM', buildBzImage({ prefAddress: 0x8000_0000n }), 'KERNEL_OUTSIDE_RAM'],
    ['a load address past guest RAM', longKernel, 'KERNEL_OUTSIDE_RAM', { loadAddress: 0x10_0000_0000n }],
    [
      'a kernel above 4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G',
      buildBzImage({ xloadflags: 0x01 }),
      'ADDRESS_ABOVE_4G',
      { loadAddress: 0xffff_f000n },
    ],
  ];

  it.each(cases)('refuses %s and writes nothing', (_name, image, code, options) => {
    const mem = guestRam([{ start: 0n, size: 32 * MiB }]);
    const before = snapshot(mem);
    expect(errorOf(() => loadBzImage(mem, image, options)).code).toBe(code);
    expect(changedRuns(mem, before)).toEqual([]);
  });

  it('loadKernel takes a file with the bzImage magic as a bzImage', () => {
    const mem = guestRam([{ start: 0n, size: 64 * MiB }]);
    expect(errorOf(() => loadKernel(mem, buildBzImage({ version: 0x0201 }))).code).toBe(
      'BZIMAGE_PROTOCOL_TOO_OLD',
    );
    expect(loadKernel(mem, buildBzImage(), { loadAddress: 0x200000n }).entry64).toBe(0x200200n);
  });
});
