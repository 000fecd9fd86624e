/**
 * Real images for the loader tests: the guest kit's kernels, Debian's stock
 * bzImage, the vmlinux inside that bzImage (its compressed payload), and a
 * tiny ELF kernel assembled and linked here with binutils.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGuestKit } from '@tsvmm/guest-kit';

export interface TestImages {
  /** The kit's kernel as ELF, with a PVH note. */
  vmlinux: string;
  /** The kit's kernel as bzImage. */
  bzImage: string;
  /** Debian's stock bzImage. */
  debianBzImage: string;
}

/** Time to allow for the first call: the kit is built when it is not cached (~10 min on 2 cores). */
export const KIT_TIMEOUT = 40 * 60_000;

let images: Promise<TestImages> | undefined;

/** The kit's images, built into its cache if they are not there yet. */
export function testImages(): Promise<TestImages> {
  images ??= ensureGuestKit().then(({ vmlinux, bzImage, debianBzImage }) => ({
    vmlinux,
    bzImage,
    debianBzImage,
  }));
  return images;
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'linux-loader-test-'));
}

/**
 * The ELF vmlinux inside a bzImage: the payload at `payload_offset` from the
 * start of the protected-mode code, `payload_length` bytes, decompressed
 * with the tool its magic names (boot.rst, "payload_offset").
 */
export function extractPayload(bzImage: string, dir: string): string {
  const image = readFileSync(bzImage);
  const setupSects = image[0x1f1] || 4;
  const offset = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const payload = image.subarray(offset, offset + image.readUInt32LE(0x24c));
  const tools: Array<[number[], string[]]> = [
    [
      [0xfd, 0x37, 0x7a, 0x58, 0x5a],
      ['xz', '-dc', '--single-stream'],
    ],
    [
      [0x28, 0xb5, 0x2f, 0xfd],
      ['zstd', '-dc'],
    ],
    [
      [0x1f, 0x8b],
      ['gzip', '-dc'],
    ],
    [
      [0x02, 0x21],
      ['lz4', '-dc'],
    ],
  ];
  const tool = tools.find(([magic]) => magic.every((b, i) => payload[i] === b));
  if (tool === undefined) throw new Error(`unknown payload compression in ${bzImage}`);
  const [cmd, ...args] = tool[1];
  const out = join(dir, 'vmlinux-from-payload');
  writeFileSync(out, execFileSync(cmd!, args, { input: payload, maxBuffer: 1 << 30 }));
  return out;
}

/**
 * A two-segment ELF "kernel" linked at 2 MiB: code with a 64-bit entry and a
 * 32-bit PVH entry (named by a Xen note), data, and 0x3000 bytes of bss.
 */
export function assembleTinyKernel(dir: string): string {
  writeFileSync(
    join(dir, 'k.S'),
    `
.section .text, "ax"
.globl _start
.code64
_start:
  hlt
  jmp _start
.code32
pvh_entry:
  hlt
  jmp pvh_entry
.section .data, "aw"
  .quad 0x1122334455667788
.section .bss, "aw", @nobits
  .skip 0x3000
.section .note.Xen, "a", @note
  .balign 4
  .long 4, 4, 18
  .asciz "Xen"
  .long pvh_entry
`,
  );
  writeFileSync(
    join(dir, 'k.ld'),
    `
ENTRY(_start)
PHDRS { text PT_LOAD FILEHDR PHDRS; data PT_LOAD; note PT_NOTE; }
SECTIONS {
  . = 0x200000 + SIZEOF_HEADERS;
  .text : { *(.text) } :text
  .note : { *(.note.Xen) } :text :note
  . = ALIGN(0x1000);
  .data : { *(.data) } :data
  .bss : { *(.bss) } :data
}
`,
  );
  execFileSync('gcc', ['-c', join(dir, 'k.S'), '-o', join(dir, 'k.o')]);
  const out = join(dir, 'tiny-kernel.elf');
  execFileSync('ld', [
    '-T',
    join(dir, 'k.ld'),
    '-nostdlib',
    '-static',
    '-z',
    'noexecstack',
    '-z',
    'max-page-size=0x1000',
    join(dir, 'k.o'),
    '-o',
    out,
  ]);
  return out;
}
