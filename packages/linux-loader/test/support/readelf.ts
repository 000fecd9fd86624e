/**
 * What binutils' `readelf` says about an ELF file: the oracle the ELF loader
 * is checked against.
 */
import { execFileSync } from 'node:child_process';

export interface ReadelfSegment {
  type: string;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

export interface ReadelfInfo {
  entry: bigint;
  segments: ReadelfSegment[];
  /** The descriptor bytes of each Xen note of type 0x12 (XEN_ELFNOTE_PHYS32_ENTRY). */
  pvhNotes: Uint8Array[];
}

export function readelf(path: string): ReadelfInfo {
  const text = execFileSync('readelf', ['-hlnW', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const entry = /Entry point address:\s+(0x[0-9a-f]+)/.exec(text);
  if (entry === null) throw new Error(`readelf printed no entry point for ${path}`);
  const segments: ReadelfSegment[] = [];
  const segmentLine =
    /^\s+([A-Z_]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/gm;
  for (const m of text.matchAll(segmentLine)) {
    segments.push({
      type: m[1]!,
      offset: BigInt(m[2]!),
      vaddr: BigInt(m[3]!),
      paddr: BigInt(m[4]!),
      filesz: BigInt(m[5]!),
      memsz: BigInt(m[6]!),
    });
  }
  const pvhNotes: Uint8Array[] = [];
  for (const m of text.matchAll(
    /^\s+Xen\s+0x[0-9a-f]+\s+.*\(0x00000012\)\s+description data: ([0-9a-f ]+)$/gm,
  )) {
    pvhNotes.push(
      Uint8Array.from(
        m[1]!
          .trim()
          .split(/\s+/)
          .map((b) => Number.parseInt(b, 16)),
      ),
    );
  }
  return { entry: BigInt(entry[1]!), segments, pvhNotes };
}
