/**
 * Loading images into guest memory, each next to its baseline: reading the
 * same file into a buffer and copying it into the same mapping, which is what
 * a loader without zero-copy views does. The loaders also validate the image
 * and check every range; the gap is what that costs (or saves).
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureGuestKit } from '@tsvmm/guest-kit';
import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { bench, describe } from 'vitest';
import { Cmdline, loadInitrd, loadKernel, writeMpTable } from '../src/index.js';
import { extractPayload, scratchDir } from '../test/support/images.js';

const kit = await ensureGuestKit();
const dir = scratchDir();
const debianVmlinux = extractPayload(kit.debianBzImage, dir);
const initrd32M = join(dir, 'initrd-32M');
writeFileSync(initrd32M, new Uint8Array(32 << 20).fill(7));

const mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 256 << 20 }]);
const ram = new Uint8Array(mem.regions[0]!.buffer);

/** Baseline: the whole file into a fresh buffer, then copied to `at`. */
function readAndCopy(path: string, at: number): void {
  ram.set(readFileSync(path), at);
}

/** Baseline: pread straight into the mapping, no checks. */
function preadInto(path: string, at: number, position: number): void {
  const fd = openSync(path, 'r');
  try {
    const view = ram.subarray(at);
    let done = 0;
    for (let n = 1; n > 0; done += n) n = readSync(fd, view, done, view.length - done, position + done);
  } finally {
    closeSync(fd);
  }
}

describe(`Debian bzImage (${(readFileSync(kit.debianBzImage).length / 1e6).toFixed(1)} MB)`, () => {
  bench('loadKernel(path)', () => {
    loadKernel(mem, kit.debianBzImage);
  });
  bench('baseline: readFileSync + copy', () => {
    readAndCopy(kit.debianBzImage, 0x100000);
  });
  bench('baseline: pread into the mapping', () => {
    preadInto(kit.debianBzImage, 0x100000, 0);
  });
});

describe(`vmlinux from Debian's bzImage (${(readFileSync(debianVmlinux).length / 1e6).toFixed(1)} MB, 4 PT_LOADs)`, () => {
  bench('loadKernel(path)', () => {
    loadKernel(mem, debianVmlinux);
  });
  bench('baseline: readFileSync + copy', () => {
    readAndCopy(debianVmlinux, 0x1000000);
  });
});

describe('32 MiB initrd', () => {
  bench('loadInitrd(path)', () => {
    loadInitrd(mem, initrd32M);
  });
  bench('baseline: readFileSync + copy', () => {
    readAndCopy(initrd32M, 200 << 20);
  });
});

describe('boot data', () => {
  bench('Cmdline: 20 arguments and 8 virtio-mmio devices', () => {
    const line = new Cmdline(4096).insertStr('console=ttyS0 quiet panic=-1 nopv noxsave tsc=reliable');
    for (let i = 0; i < 14; i++) line.insert(`key${i}`, i);
    for (let i = 0; i < 8; i++) line.addVirtioMmioDevice(0x1000n, 0xd0000000n + BigInt(i) * 0x1000n, 5 + i);
    line.toBytes();
  });
  bench('writeMpTable, 64 CPUs', () => {
    writeMpTable(mem, 0x9fc00n, { cpus: 64 });
  });
});
