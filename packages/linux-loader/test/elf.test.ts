import { closeSync, openSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadElfFrom, parseElf } from '../src/elf.js';
import { bytesSource, fdSource } from '../src/image-source.js';
import { type LinuxLoaderErrorCode, loadElf, loadKernel } from '../src/index.js';
import { buildElf, concat, elfNote, pattern, pvhNote, type TestElf } from './support/elf-builder.js';
import { errorOf } from './support/errors.js';
import {
  assembleTinyKernel,
  extractPayload,
  KIT_TIMEOUT,
  scratchDir,
  type TestImages,
  testImages,
} from './support/images.js';
import { changedRuns, guestRam, MiB, readGuest, snapshot } from './support/memory.js';
import { readelf } from './support/readelf.js';

/**
 * Loads `path` into fresh RAM and checks the result against readelf and the
 * file's bytes: every PT_LOAD at p_paddr, its file bytes in place, the rest
 * up to p_memsz zeroed, nothing else written, the entry and the PVH entry.
 */
function checkAgainstReadelf(path: string, ramSize: number): void {
  const info = readelf(path);
  const file = readFileSync(path);
  const mem = guestRam([{ start: 0n, size: ramSize }]);
  const before = snapshot(mem);
  const result = loadKernel(mem, path);
  expect(result.kind).toBe('elf');
  expect(result.entry64).toBe(info.entry);
  const loads = info.segments.filter((s) => s.type === 'LOAD' && s.memsz > 0n);
  expect(loads.length).toBeGreaterThan(0);
  for (const s of loads) {
    const inFile = file.subarray(Number(s.offset), Number(s.offset + s.filesz));
    const inGuest = readGuest(mem, s.paddr, Number(s.filesz));
    expect(Buffer.compare(Buffer.from(inGuest), inFile)).toBe(0);
    const bss = readGuest(mem, s.paddr + s.filesz, Number(s.memsz - s.filesz));
    expect(bss.every((b) => b === 0)).toBe(true);
  }
  const written = (a: bigint) => loads.some((s) => a >= s.paddr && a < s.paddr + s.memsz);
  for (const [start, end] of changedRuns(mem, before)) {
    expect(written(start) && written(end - 1n)).toBe(true);
  }
  const byAddress = (a: bigint, b: bigint) => (a < b ? -1 : 1);
  const lowest = loads.map((s) => s.paddr).sort(byAddress)[0];
  const highest = loads.map((s) => s.paddr + s.memsz).sort(byAddress)[loads.length - 1];
  expect(result.loadedRange).toEqual({ start: lowest, end: highest });
  expect(result.kernelRange).toEqual(result.loadedRange);
  if (info.pvhNotes.length === 0) {
    expect(result.pvhEntry).toBeUndefined();
  } else {
    const desc = info.pvhNotes[0]!;
    let value = 0n;
    for (let i = desc.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(desc[i]!);
    expect(result.pvhEntry).toBe(value);
  }
}

describe('ELF images built by binutils', () => {
  let dir: string;
  let images: TestImages;
  beforeAll(async () => {
    dir = scratchDir();
    images = await testImages();
  }, KIT_TIMEOUT);

  it('loads a linked kernel as readelf describes it, zeroing its bss', () => {
    const path = assembleTinyKernel(dir);
    const info = readelf(path);
    expect(info.pvhNotes).toHaveLength(1);
    expect(info.segments.some((s) => s.type === 'LOAD' && s.memsz > s.filesz)).toBe(true);
    checkAgainstReadelf(path, 4 * MiB);
  });

  it("loads the vmlinux inside Debian's stock bzImage (four PT_LOADs, PVH note with an 8-byte descriptor)", () => {
    const vmlinux = extractPayload(images.debianBzImage, dir);
    const info = readelf(vmlinux);
    expect(info.pvhNotes[0]).toHaveLength(8);
    checkAgainstReadelf(vmlinux, 128 * MiB);
  }, 120_000);

  it("loads the guest kit's vmlinux", () => {
    expect(readelf(images.vmlinux).pvhNotes).toHaveLength(1);
    checkAgainstReadelf(images.vmlinux, 128 * MiB);
  }, 120_000);
});

describe('ELF inputs', () => {
  const elf = buildElf({
    entry: 0x1000n,
    segments: [
      { paddr: 0x1000n, data: pattern(0x180), memsz: 0x400n },
      { type: 4, paddr: 0n, data: pvhNote(0x1010n) },
      { paddr: 0x3000n, data: pattern(0x20, 7) },
    ],
  });

  it('reads bytes, a file descriptor and a path alike', () => {
    const dir = scratchDir();
    const path = join(dir, 'k.elf');
    writeFileSync(path, elf);
    const results = [];
    for (const input of ['bytes', 'fd', 'path'] as const) {
      const mem = guestRam([{ start: 0n, size: 0x10000 }]);
      const fd = openSync(path, 'r');
      try {
        results.push(loadElf(mem, input === 'bytes' ? elf : input === 'fd' ? fd : path));
      } finally {
        closeSync(fd);
      }
      expect(readGuest(mem, 0x1000n, 0x180)).toEqual(pattern(0x180));
      expect(readGuest(mem, 0x1180n, 0x280).every((b) => b === 0)).toBe(true);
      expect(readGuest(mem, 0x3000n, 0x20)).toEqual(pattern(0x20, 7));
      expect(readGuest(mem, 0x1400n, 0x10).every((b) => b === 0xa5)).toBe(true);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(results[0]).toEqual({
      kind: 'elf',
      entry64: 0x1000n,
      pvhEntry: 0x1010n,
      loadedRange: { start: 0x1000n, end: 0x3020n },
      kernelRange: { start: 0x1000n, end: 0x3020n },
    });
  });

  it('loads a segment that spans two adjacent regions', () => {
    const mem = guestRam([
      { start: 0n, size: 0x1800 },
      { start: 0x1800n, size: 0x2800 },
    ]);
    loadElf(mem, elf);
    expect(mem.regions.length).toBe(2);
    expect(readGuest(mem, 0x1000n, 0x180)).toEqual(pattern(0x180));
  });

  it('reports a file that shrinks while it is read', () => {
    const dir = scratchDir();
    const path = join(dir, 'shrinking.elf');
    writeFileSync(path, elf);
    const fd = openSync(path, 'r');
    try {
      const source = fdSource(fd);
      parseElf(source);
      truncateSync(path, 0x100);
      const mem = guestRam([{ start: 0n, size: 0x10000 }]);
      expect(errorOf(() => loadElfFrom(mem, source)).code).toBe('IMAGE_READ_FAILED');
      expect(errorOf(() => bytesSource(elf).read(new Uint8Array(4), elf.length - 2)).code).toBe(
        'IMAGE_READ_FAILED',
      );
    } finally {
      closeSync(fd);
    }
  });

  it('rejects inputs that are no image', () => {
    const mem = guestRam([{ start: 0n, size: 0x10000 }]);
    expect(() => loadElf(mem, {} as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => loadElf(mem, -1)).toThrow(TypeError);
    expect(() => loadElf(mem, '/nonexistent/vmlinux')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('malformed ELF images', () => {
  const good: TestElf = {
    entry: 0x1000n,
    segments: [
      { paddr: 0x1000n, data: pattern(0x100), memsz: 0x200n },
      { paddr: 0x2000n, data: pattern(0x40, 3) },
    ],
  };
  const variant = (patch: Partial<TestElf>): TestElf => ({ ...good, ...patch });
  const withSegments = (...segments: TestElf['segments']) => variant({ segments });
  const pvhSegment = (note: Uint8Array, align?: bigint) => ({
    type: 4,
    paddr: 0n,
    data: note,
    ...(align === undefined ? {} : { align }),
  });

  const cases: Array<[string, Uint8Array, LinuxLoaderErrorCode]> = [
    ['three bytes', new Uint8Array([0x7f, 0x45, 0x4c]), 'ELF_TRUNCATED'],
    ['a header cut short', buildElf(variant({ truncate: 40 })), 'ELF_TRUNCATED'],
    ['program headers past the end', buildElf(variant({ phoff: 0x10000n })), 'ELF_TRUNCATED'],
    ['wrong magic', new Uint8Array(64).fill(0x41), 'ELF_BAD_MAGIC'],
    ['ELFCLASS32', buildElf(variant({ elfClass: 1 })), 'ELF_NOT_64BIT'],
    ['big endian', buildElf(variant({ elfData: 2 })), 'ELF_NOT_LITTLE_ENDIAN'],
    ['EI_VERSION 0', buildElf(variant({ identVersion: 0 })), 'ELF_BAD_VERSION'],
    ['e_version 2', buildElf(variant({ version: 2 })), 'ELF_BAD_VERSION'],
    ['ET_DYN', buildElf(variant({ type: 3 })), 'ELF_NOT_EXECUTABLE'],
    ['EM_386', buildElf(variant({ machine: 3 })), 'ELF_WRONG_MACHINE'],
    ['e_phentsize 32', buildElf(variant({ phentsize: 32 })), 'ELF_BAD_PROGRAM_HEADERS'],
    ['e_phnum PN_XNUM', buildElf(variant({ phnum: 0xffff })), 'ELF_BAD_PROGRAM_HEADERS'],
    [
      'a segment past the end of the file',
      buildElf(withSegments({ paddr: 0x1000n, data: pattern(16), filesz: 0x100000n })),
      'ELF_SEGMENT_OUTSIDE_FILE',
    ],
    [
      'a segment offset near 2^64',
      buildElf(withSegments({ paddr: 0x1000n, data: pattern(16), offset: 0xffff_ffff_ffff_fff0n })),
      'ELF_SEGMENT_OUTSIDE_FILE',
    ],
    [
      'p_filesz > p_memsz',
      buildElf(withSegments({ paddr: 0x1000n, data: pattern(0x100), memsz: 0x80n })),
      'ELF_SEGMENT_FILESZ_EXCEEDS_MEMSZ',
    ],
    [
      'p_paddr + p_memsz past 2^64',
      buildElf(withSegments({ paddr: 0xffff_ffff_ffff_f000n, data: pattern(16), memsz: 0x2000n })),
      'ELF_SEGMENT_OVERFLOW',
    ],
    [
      'overlapping segments',
      buildElf(
        withSegments({ paddr: 0x1000n, data: pattern(0x100) }, { paddr: 0x10f0n, data: pattern(0x10) }),
      ),
      'ELF_SEGMENTS_OVERLAP',
    ],
    [
      'a bss overlapping the next segment',
      buildElf(
        withSegments(
          { paddr: 0x1000n, data: pattern(0x10), memsz: 0x2000n },
          { paddr: 0x2000n, data: pattern(8) },
        ),
      ),
      'ELF_SEGMENTS_OVERLAP',
    ],
    [
      'no PT_LOAD',
      buildElf(withSegments({ type: 6, paddr: 0x1000n, data: pattern(8) })),
      'ELF_NO_LOAD_SEGMENTS',
    ],
    [
      'only empty PT_LOADs',
      buildElf(variant({ entry: 0x1000n, segments: [{ paddr: 0x1000n }] })),
      'ELF_NO_LOAD_SEGMENTS',
    ],
    ['an entry outside every segment', buildElf(variant({ entry: 0x8000n })), 'ELF_ENTRY_OUTSIDE_SEGMENTS'],
    [
      'a PVH entry outside every segment',
      buildElf(withSegments(...good.segments, pvhSegment(pvhNote(0x9000n)))),
      'ELF_ENTRY_OUTSIDE_SEGMENTS',
    ],
    [
      'a segment outside guest RAM',
      buildElf(withSegments(...good.segments, { paddr: 0x20000n, data: pattern(8) })),
      'KERNEL_OUTSIDE_RAM',
    ],
    [
      'a bss running past guest RAM',
      buildElf(withSegments({ paddr: 0x1000n, data: pattern(8), memsz: 0x10000n })),
      'KERNEL_OUTSIDE_RAM',
    ],
    [
      'an absurd p_memsz',
      buildElf(withSegments({ paddr: 0x1000n, data: pattern(8), memsz: 0x7fff_ffff_ffff_0000n })),
      'KERNEL_OUTSIDE_RAM',
    ],
    [
      'a PT_NOTE past the end of the file',
      buildElf(
        withSegments(...good.segments, { type: 4, paddr: 0n, data: pvhNote(0x1000n), filesz: 0x1000n }),
      ),
      'ELF_SEGMENT_OUTSIDE_FILE',
    ],
    [
      'a note header cut off',
      buildElf(withSegments(...good.segments, pvhSegment(pvhNote(0x1000n).subarray(0, 8)))),
      'ELF_NOTE_TRUNCATED',
    ],
    [
      'a note whose descriptor runs past its segment',
      buildElf(withSegments(...good.segments, pvhSegment(pvhNote(0x1000n).subarray(0, 18)))),
      'ELF_NOTE_TRUNCATED',
    ],
    [
      'a note with an absurd namesz',
      buildElf(
        withSegments(
          ...good.segments,
          pvhSegment(
            (() => {
              const n = pvhNote(0x1000n);
              new DataView(n.buffer).setUint32(0, 0xffff_fff0, true);
              return n;
            })(),
          ),
        ),
      ),
      'ELF_NOTE_TRUNCATED',
    ],
    [
      'a PVH note with a 2-byte descriptor',
      buildElf(withSegments(...good.segments, pvhSegment(elfNote('Xen', 18, new Uint8Array(2))))),
      'ELF_PVH_NOTE_INVALID',
    ],
    [
      'a PVH entry above 4 GiB',
      buildElf(withSegments(...good.segments, pvhSegment(pvhNote(0x1_0000_1000n, 8)))),
      'ELF_PVH_NOTE_INVALID',
    ],
    [
      'two PVH notes that disagree',
      buildElf(withSegments(...good.segments, pvhSegment(concat(pvhNote(0x1000n), pvhNote(0x1004n))))),
      'ELF_PVH_NOTE_INVALID',
    ],
    [
      'two PVH notes in two segments that disagree',
      buildElf(withSegments(...good.segments, pvhSegment(pvhNote(0x1000n)), pvhSegment(pvhNote(0x2000n)))),
      'ELF_PVH_NOTE_INVALID',
    ],
  ];

  it.each(cases)('refuses %s and writes nothing', (_name, image, code) => {
    const mem = guestRam([{ start: 0n, size: 0x10000 }]);
    const before = snapshot(mem);
    const error = errorOf(() => loadElf(mem, image));
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(10);
    expect(changedRuns(mem, before)).toEqual([]);
  });

  it('loadKernel refuses what is neither ELF nor bzImage', () => {
    const mem = guestRam([{ start: 0n, size: 0x10000 }]);
    expect(errorOf(() => loadKernel(mem, new Uint8Array(0x400))).code).toBe('IMAGE_FORMAT_UNKNOWN');
    expect(errorOf(() => loadKernel(mem, new Uint8Array(3))).code).toBe('IMAGE_FORMAT_UNKNOWN');
  });

  it('accepts notes of other owners, repeated equal PVH notes and 8-byte note alignment', () => {
    const notes = concat(
      elfNote('GNU', 3, pattern(20), 8),
      elfNote('Xen', 18, new Uint8Array([0x10, 0x10, 0, 0, 0, 0, 0, 0]), 8),
      elfNote('Xen', 18, new Uint8Array([0x10, 0x10, 0, 0, 0, 0, 0, 0]), 8),
      elfNote('Linux', 18, new Uint8Array(4), 8),
    );
    const mem = guestRam([{ start: 0n, size: 0x10000 }]);
    const result = loadElf(mem, buildElf(withSegments(...good.segments, pvhSegment(notes, 8n))));
    expect(result.pvhEntry).toBe(0x1010n);
  });
});
