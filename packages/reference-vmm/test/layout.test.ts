import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemoryArrayBuffer, GuestMemoryMmap } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import { loadGuest } from '../src/boot.js';
import { FOUR_GIB, MMIO_HOLE_START, ramRanges, START_INFO_ADDRESS } from '../src/layout.js';
import { ENDINGS, tinyKernel } from './fixtures/tiny-kernel.js';

const GiB = 1024 ** 3;

/** hvm_start_info's memory map, parsed from the PVH ABI's layout (start_info.h). */
function pvhMemoryMap(mem: { readU32(a: bigint): number; readU64(a: bigint): bigint }) {
  expect(mem.readU32(START_INFO_ADDRESS)).toBe(0x336ec578);
  const mapAddress = mem.readU64(START_INFO_ADDRESS + 0x28n);
  const entries = mem.readU32(START_INFO_ADDRESS + 0x30n);
  return Array.from({ length: entries }, (_, i) => {
    const at = mapAddress + BigInt(i * 24);
    return { addr: mem.readU64(at), size: mem.readU64(at + 8n), type: mem.readU32(at + 16n) };
  });
}

describe('guest memory layout', () => {
  it('keeps small guests below the MMIO hole', () => {
    expect(ramRanges(128 * 1024 * 1024)).toEqual([{ start: 0n, size: 128 * 1024 * 1024 }]);
    expect(ramRanges(3 * GiB)).toEqual([{ start: 0n, size: 3 * GiB }]);
  });

  it('puts what does not fit below 3 GiB above 4 GiB', () => {
    expect(ramRanges(4.5 * GiB)).toEqual([
      { start: 0n, size: Number(MMIO_HOLE_START) },
      { start: FOUR_GIB, size: 1.5 * GiB },
    ]);
  });

  it('refuses sizes that are not whole pages', () => {
    expect(() => ramRanges(0)).toThrow(RangeError);
    expect(() => ramRanges(4097)).toThrow(RangeError);
  });

  it('gives the guest an e820 map with the legacy area reserved and RAM on both sides of the hole', () => {
    const kernel = join(mkdtempSync(join(tmpdir(), 'tsvmm-layout-')), 'kernel');
    writeFileSync(kernel, tinyKernel('', ENDINGS.poweroff));
    using mem = GuestMemoryMmap.fromRanges(ramRanges(4.5 * GiB)); // pages are only allocated when touched
    const plan = loadGuest(mem, { kernel, cmdline: 'console=ttyS0', protocol: 'auto', vcpus: 2 });
    expect(plan.protocol).toBe('pvh');
    expect(pvhMemoryMap(mem)).toEqual([
      { addr: 0n, size: 0x9fc00n, type: 1 },
      { addr: 0x9fc00n, size: 0x100000n - 0x9fc00n, type: 2 },
      { addr: 0x100000n, size: MMIO_HOLE_START - 0x100000n, type: 1 },
      { addr: FOUR_GIB, size: BigInt(1.5 * GiB), type: 1 },
    ]);
  });

  it('refuses a kernel that does not fit in RAM', () => {
    const kernel = join(mkdtempSync(join(tmpdir(), 'tsvmm-layout-')), 'kernel');
    writeFileSync(kernel, tinyKernel('', ENDINGS.poweroff));
    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x80000 }]); // 512 KiB: no room at 1 MiB
    expect(() => loadGuest(mem, { kernel, cmdline: '', protocol: 'auto', vcpus: 1 })).toThrow(
      expect.objectContaining({ code: 'KERNEL' }),
    );
  });
});
