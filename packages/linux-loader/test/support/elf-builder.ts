/**
 * Builds ELF64 files byte by byte from the System V ABI layout, for tests
 * that need images the linker would never produce (overlaps, bad notes,
 * absurd sizes). Independent of the loader's own parser.
 */

export interface TestSegment {
  /** p_type; default PT_LOAD (1). */
  type?: number;
  paddr: bigint;
  vaddr?: bigint;
  /** Bytes placed in the file for this segment. */
  data?: Uint8Array;
  /** p_offset; default: where `data` was placed. */
  offset?: bigint;
  /** p_filesz; default `data.length`. */
  filesz?: bigint;
  /** p_memsz; default p_filesz. */
  memsz?: bigint;
  align?: bigint;
}

export interface TestElf {
  entry: bigint;
  segments: TestSegment[];
  elfClass?: number;
  elfData?: number;
  identVersion?: number;
  version?: number;
  type?: number;
  machine?: number;
  phentsize?: number;
  /** e_phnum; default segments.length. */
  phnum?: number;
  /** e_phoff; default 64. */
  phoff?: bigint;
  /** Cut the file to this many bytes. */
  truncate?: number;
}

/** One ELF note: namesz, descsz, type, name (NUL-terminated, padded), desc (padded). */
export function elfNote(name: string, type: number, desc: Uint8Array, align = 4): Uint8Array {
  const pad = (n: number) => Math.ceil(n / align) * align;
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const out = new Uint8Array(12 + pad(nameBytes.length) + pad(desc.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, nameBytes.length, true);
  view.setUint32(4, desc.length, true);
  view.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + pad(nameBytes.length));
  return out;
}

/** The PVH note with a 4- or 8-byte descriptor. */
export function pvhNote(entry: bigint, descSize: 4 | 8 = 4): Uint8Array {
  const desc = new Uint8Array(descSize);
  const view = new DataView(desc.buffer);
  if (descSize === 4) view.setUint32(0, Number(entry), true);
  else view.setBigUint64(0, entry, true);
  return elfNote('Xen', 18, desc);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function buildElf(spec: TestElf): Uint8Array {
  const phnum = spec.phnum ?? spec.segments.length;
  const phoff = spec.phoff ?? 64n;
  let cursor = 64 + spec.segments.length * 56;
  const placed = spec.segments.map((s) => {
    const data = s.data ?? new Uint8Array(0);
    cursor = Math.ceil(cursor / 16) * 16;
    const at = cursor;
    cursor += data.length;
    return { s, data, at };
  });
  const out = new Uint8Array(cursor);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.elfClass ?? 2, spec.elfData ?? 1, spec.identVersion ?? 1], 0);
  view.setUint16(16, spec.type ?? 2, true);
  view.setUint16(18, spec.machine ?? 62, true);
  view.setUint32(20, spec.version ?? 1, true);
  view.setBigUint64(24, spec.entry, true);
  view.setBigUint64(32, phoff, true);
  view.setUint16(52, 64, true);
  view.setUint16(54, spec.phentsize ?? 56, true);
  view.setUint16(56, phnum, true);
  placed.forEach(({ s, data, at }, i) => {
    const p = 64 + i * 56;
    const filesz = s.filesz ?? BigInt(data.length);
    view.setUint32(p, s.type ?? 1, true);
    view.setUint32(p + 4, 5, true);
    view.setBigUint64(p + 8, s.offset ?? BigInt(at), true);
    view.setBigUint64(p + 16, s.vaddr ?? s.paddr, true);
    view.setBigUint64(p + 24, s.paddr, true);
    view.setBigUint64(p + 32, filesz, true);
    view.setBigUint64(p + 40, s.memsz ?? filesz, true);
    view.setBigUint64(p + 48, s.align ?? 0x1000n, true);
    out.set(data, at);
  });
  return spec.truncate === undefined ? out : out.slice(0, spec.truncate);
}

/** Deterministic filler bytes. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
