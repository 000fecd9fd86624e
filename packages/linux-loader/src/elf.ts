/**
 * ELF `vmlinux` images: a 64-bit x86 executable whose `PT_LOAD` segments are
 * loaded at their physical addresses (`p_paddr`), entered at `e_entry` with
 * the 64-bit boot protocol, or at the 32-bit PVH entry that the
 * `XEN_ELFNOTE_PHYS32_ENTRY` note names.
 *
 * Everything is checked before a byte is written: the headers, every
 * segment against the file and against guest RAM, overlaps, the notes.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { hex, LinuxLoaderError, type LinuxLoaderErrorCode } from './errors.js';
import { type AddressRange, copyToGuest, requireRam } from './guest.js';
import { type ImageInput, type ImageSource, withImageSource } from './image-source.js';
import type { KernelLoadResult } from './kernel-result.js';

/** `EM_X86_64`, the ELF machine of a 64-bit x86 kernel. */
export const EM_X86_64 = 62;
/** `ET_EXEC`, an executable (not relocatable, not shared) ELF file. */
export const ET_EXEC = 2;
/** `PT_LOAD`, a segment to load. */
export const PT_LOAD = 1;
/** `PT_NOTE`, a segment of notes. */
export const PT_NOTE = 4;
/** `XEN_ELFNOTE_PHYS32_ENTRY`: the note (owner `Xen`) with the 32-bit PVH entry point. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const U64_LIMIT = 1n << 64n;

/** One `PT_LOAD` segment as the loader sees it. */
export interface ElfSegment {
  /** Offset of the segment's bytes in the file. */
  readonly offset: number;
  /** Bytes taken from the file. */
  readonly fileSize: number;
  /** Guest physical address (`p_paddr`). */
  readonly physicalAddress: bigint;
  /** Bytes in memory; those past `fileSize` are zeroed. */
  readonly memorySize: bigint;
}

/** What {@link parseElf} found in a valid kernel ELF. */
export interface ElfImage {
  /** `e_entry`: the 64-bit entry point. */
  readonly entry: bigint;
  /** The PVH entry from `XEN_ELFNOTE_PHYS32_ENTRY`, if the image has one. */
  readonly pvhEntry: bigint | undefined;
  /** The non-empty `PT_LOAD` segments, sorted by physical address. */
  readonly segments: readonly ElfSegment[];
}

function fail(code: LinuxLoaderErrorCode, message: string): never {
  throw new LinuxLoaderError(code, message);
}

/** Whether `bytes` start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  );
}

/** `[offset, offset + size)` must lie inside the file; returns the numbers. */
function fileRange(source: ImageSource, offset: bigint, size: bigint, what: string): [number, number] {
  if (offset + size > BigInt(source.size)) {
    fail(
      'ELF_SEGMENT_OUTSIDE_FILE',
      `${what} covers file bytes [${hex(offset)}, ${hex(offset + size)}) but the file has ${hex(source.size)}`,
    );
  }
  return [Number(offset), Number(size)];
}

/** Reads the PVH entry from the notes of one `PT_NOTE` segment, if there. */
function findPvhEntry(notes: Uint8Array, align: number, index: number): bigint | undefined {
  const view = new DataView(notes.buffer, notes.byteOffset, notes.byteLength);
  const pad = (n: number) => Math.ceil(n / align) * align;
  let found: bigint | undefined;
  let pos = 0;
  while (pos < notes.length) {
    if (pos + 12 > notes.length)
      fail('ELF_NOTE_TRUNCATED', `note header at ${pos} of PT_NOTE ${index} is cut off`);
    const nameSize = view.getUint32(pos, true);
    const descSize = view.getUint32(pos + 4, true);
    const type = view.getUint32(pos + 8, true);
    const nameStart = pos + 12;
    const descStart = nameStart + pad(nameSize);
    if (nameStart + nameSize > notes.length || descStart + descSize > notes.length) {
      fail('ELF_NOTE_TRUNCATED', `note at ${pos} of PT_NOTE ${index} runs past the segment`);
    }
    const isXen =
      nameSize === 4 &&
      notes[nameStart] === 0x58 &&
      notes[nameStart + 1] === 0x65 &&
      notes[nameStart + 2] === 0x6e &&
      notes[nameStart + 3] === 0;
    if (isXen && type === XEN_ELFNOTE_PHYS32_ENTRY) {
      let entry: bigint;
      if (descSize === 4) entry = BigInt(view.getUint32(descStart, true));
      else if (descSize === 8) entry = view.getBigUint64(descStart, true);
      else
        fail(
          'ELF_PVH_NOTE_INVALID',
          `XEN_ELFNOTE_PHYS32_ENTRY has a ${descSize}-byte descriptor, not 4 or 8`,
        );
      if (entry >= 0x1_0000_0000n)
        fail('ELF_PVH_NOTE_INVALID', `PVH entry ${hex(entry)} is not a 32-bit address`);
      if (found !== undefined && found !== entry) {
        fail(
          'ELF_PVH_NOTE_INVALID',
          `two XEN_ELFNOTE_PHYS32_ENTRY notes disagree (${hex(found)}, ${hex(entry)})`,
        );
      }
      found = entry;
    }
    pos = descStart + pad(descSize);
  }
  return found;
}

/**
 * Validates a kernel ELF and describes what to load; reads only headers and notes.
 * @throws LinuxLoaderError with an `ELF_*` code naming the first problem found.
 */
export function parseElf(source: ImageSource): ElfImage {
  if (source.size < 4) fail('ELF_TRUNCATED', `the file has ${source.size} bytes, too few for an ELF header`);
  const ident = source.bytes(0, 4);
  if (!isElf(ident)) fail('ELF_BAD_MAGIC', 'the file does not start with \\x7fELF');
  if (source.size < EHDR_SIZE)
    fail('ELF_TRUNCATED', `the file has ${source.size} bytes, too few for an ELF64 header`);
  const ehdr = source.bytes(0, EHDR_SIZE);
  const eh = new DataView(ehdr.buffer);
  if (ehdr[4] !== 2) fail('ELF_NOT_64BIT', `EI_CLASS is ${ehdr[4]}, not ELFCLASS64 (2)`);
  if (ehdr[5] !== 1) fail('ELF_NOT_LITTLE_ENDIAN', `EI_DATA is ${ehdr[5]}, not ELFDATA2LSB (1)`);
  if (ehdr[6] !== 1 || eh.getUint32(20, true) !== 1)
    fail('ELF_BAD_VERSION', 'the ELF version is not EV_CURRENT (1)');
  const type = eh.getUint16(16, true);
  if (type !== ET_EXEC) fail('ELF_NOT_EXECUTABLE', `e_type is ${type}, not ET_EXEC (2)`);
  const machine = eh.getUint16(18, true);
  if (machine !== EM_X86_64) fail('ELF_WRONG_MACHINE', `e_machine is ${machine}, not EM_X86_64 (62)`);
  const entry = eh.getBigUint64(24, true);
  const phoff = eh.getBigUint64(32, true);
  const phentsize = eh.getUint16(54, true);
  const phnum = eh.getUint16(56, true);
  if (phentsize !== PHDR_SIZE)
    fail('ELF_BAD_PROGRAM_HEADERS', `e_phentsize is ${phentsize}, not ${PHDR_SIZE}`);
  if (phnum === 0xffff)
    fail('ELF_BAD_PROGRAM_HEADERS', 'e_phnum is PN_XNUM; extended numbering is not supported');
  if (phoff + BigInt(phnum * PHDR_SIZE) > BigInt(source.size)) {
    fail('ELF_TRUNCATED', `${phnum} program headers at ${hex(phoff)} run past the end of the file`);
  }
  const phdrs = source.bytes(Number(phoff), phnum * PHDR_SIZE);
  const ph = new DataView(phdrs.buffer);

  const segments: ElfSegment[] = [];
  let pvhEntry: bigint | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = i * PHDR_SIZE;
    const pType = ph.getUint32(at, true);
    const offset = ph.getBigUint64(at + 8, true);
    const paddr = ph.getBigUint64(at + 24, true);
    const filesz = ph.getBigUint64(at + 32, true);
    const memsz = ph.getBigUint64(at + 40, true);
    const align = ph.getBigUint64(at + 48, true);
    if (pType === PT_NOTE) {
      const [position, size] = fileRange(source, offset, filesz, `PT_NOTE ${i}`);
      const found = findPvhEntry(source.bytes(position, size), align === 8n ? 8 : 4, i);
      if (found !== undefined) {
        if (pvhEntry !== undefined && pvhEntry !== found) {
          fail(
            'ELF_PVH_NOTE_INVALID',
            `two XEN_ELFNOTE_PHYS32_ENTRY notes disagree (${hex(pvhEntry)}, ${hex(found)})`,
          );
        }
        pvhEntry = found;
      }
    }
    if (pType !== PT_LOAD) continue;
    if (filesz > memsz)
      fail('ELF_SEGMENT_FILESZ_EXCEEDS_MEMSZ', `PT_LOAD ${i} has p_filesz ${filesz} > p_memsz ${memsz}`);
    const [position, size] = fileRange(source, offset, filesz, `PT_LOAD ${i}`);
    if (paddr + memsz > U64_LIMIT) {
      fail('ELF_SEGMENT_OVERFLOW', `PT_LOAD ${i} at ${hex(paddr)} of ${hex(memsz)} bytes ends past 2^64`);
    }
    if (memsz === 0n) continue;
    segments.push({ offset: position, fileSize: size, physicalAddress: paddr, memorySize: memsz });
  }
  if (segments.length === 0) fail('ELF_NO_LOAD_SEGMENTS', 'the image has no non-empty PT_LOAD segment');
  segments.sort((a, b) =>
    a.physicalAddress < b.physicalAddress ? -1 : a.physicalAddress > b.physicalAddress ? 1 : 0,
  );
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (prev.physicalAddress + prev.memorySize > cur.physicalAddress) {
      fail(
        'ELF_SEGMENTS_OVERLAP',
        `PT_LOAD segments at ${hex(prev.physicalAddress)} (${hex(prev.memorySize)} bytes) and ${hex(cur.physicalAddress)} overlap`,
      );
    }
  }
  const inSegment = (addr: bigint) =>
    segments.some((s) => addr >= s.physicalAddress && addr < s.physicalAddress + s.memorySize);
  if (!inSegment(entry))
    fail('ELF_ENTRY_OUTSIDE_SEGMENTS', `e_entry ${hex(entry)} is not inside a PT_LOAD segment`);
  if (pvhEntry !== undefined && !inSegment(pvhEntry)) {
    fail('ELF_ENTRY_OUTSIDE_SEGMENTS', `the PVH entry ${hex(pvhEntry)} is not inside a PT_LOAD segment`);
  }
  return { entry, pvhEntry, segments };
}

/**
 * Loads a kernel ELF into guest memory: each `PT_LOAD` segment at its
 * physical address, its bytes past `p_filesz` zeroed. Nothing is written
 * unless the whole image is valid and every segment fits in guest RAM.
 *
 * @param image - the ELF bytes, an open file descriptor, or a path.
 * @throws LinuxLoaderError an `ELF_*` code, `KERNEL_OUTSIDE_RAM`, or `IMAGE_READ_FAILED`.
 */
export function loadElf(mem: GuestMemory, image: ImageInput): KernelLoadResult {
  return withImageSource(image, 'image', (source) => loadElfFrom(mem, source));
}

/** {@link loadElf} over an open source. */
export function loadElfFrom(mem: GuestMemory, source: ImageSource): KernelLoadResult {
  const elf = parseElf(source);
  for (const s of elf.segments) {
    requireRam(mem, s.physicalAddress, s.memorySize, 'KERNEL_OUTSIDE_RAM', 'PT_LOAD segment');
  }
  for (const s of elf.segments) {
    copyToGuest(mem, s.physicalAddress, source, s.offset, s.fileSize);
    const bss = Number(s.memorySize) - s.fileSize;
    if (bss > 0) mem.fill(s.physicalAddress + BigInt(s.fileSize), bss, 0);
  }
  const first = elf.segments[0]!;
  const last = elf.segments[elf.segments.length - 1]!;
  const range: AddressRange = { start: first.physicalAddress, end: last.physicalAddress + last.memorySize };
  return {
    kind: 'elf',
    entry64: elf.entry,
    ...(elf.pvhEntry === undefined ? {} : { pvhEntry: elf.pvhEntry }),
    loadedRange: range,
    kernelRange: range,
  };
}
