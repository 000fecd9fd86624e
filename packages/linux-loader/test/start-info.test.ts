import { describe, expect, it } from 'vitest';
import {
  E820_RAM,
  E820_RESERVED,
  type E820Entry,
  HVM_START_INFO_OFFSETS,
  HVM_START_INFO_SIZE,
  LinuxLoaderError,
  writeHvmStartInfo,
  XEN_HVM_START_MAGIC_VALUE,
} from '../src/index.js';
import { codeOf } from './support/errors.js';
import { changedRuns, guestRam, MiB, snapshot } from './support/memory.js';
import { parseStartInfo } from './support/spec-parsers.js';

const memoryMap: E820Entry[] = [
  { addr: 0n, size: 0x9fc00n, type: E820_RAM },
  { addr: 0x9fc00n, size: 0x60400n, type: E820_RESERVED },
  { addr: 0x100000n, size: 0x7f00000n, type: E820_RAM },
];

describe('writeHvmStartInfo', () => {
  it('has the layout of start_info.h', () => {
    expect(HVM_START_INFO_SIZE).toBe(56);
    expect(HVM_START_INFO_OFFSETS).toEqual({
      magic: 0,
      version: 4,
      flags: 8,
      nr_modules: 12,
      modlist_paddr: 16,
      cmdline_paddr: 24,
      rsdp_paddr: 32,
      memmap_paddr: 40,
      memmap_entries: 48,
      reserved: 52,
    });
  });

  it('writes version 1 with its modules and memory map behind it', () => {
    const mem = guestRam([{ start: 0n, size: 8 * MiB }]);
    const before = snapshot(mem);
    const layout = writeHvmStartInfo(mem, 0x6000n, {
      cmdlineAddress: 0x20000n,
      memoryMap,
      modules: [
        { address: 0x400000n, size: 0x12345, cmdlineAddress: 0x21000n },
        { address: 0x500000n, size: 0x10n },
      ],
      rsdpAddress: 0xe0000n,
      flags: 2,
    });
    expect(layout).toEqual({
      start: 0x6000n,
      end: 0x6000n + 56n + 2n * 32n + 3n * 24n,
      modlistAddress: 0x6038n,
      memmapAddress: 0x6078n,
    });
    expect(changedRuns(mem, before).every(([s, e]) => s >= layout.start && e <= layout.end)).toBe(true);
    const info = parseStartInfo(mem, 0x6000n);
    expect(info).toEqual({
      magic: XEN_HVM_START_MAGIC_VALUE,
      version: 1,
      flags: 2,
      modules: [
        { paddr: 0x400000n, size: 0x12345n, cmdline: 0x21000n, reserved: 0n },
        { paddr: 0x500000n, size: 0x10n, cmdline: 0n, reserved: 0n },
      ],
      cmdline: 0x20000n,
      rsdp: 0xe0000n,
      memmap: memoryMap.map((e) => ({ ...e, reserved: 0 })),
      reserved: 0,
    });
    expect(info.magic).toBe(0x336ec578);
  });

  it('leaves absent things at 0', () => {
    const mem = guestRam([{ start: 0n, size: MiB }]);
    const layout = writeHvmStartInfo(mem, 0x6000n, { memoryMap: memoryMap.slice(0, 1) });
    expect(layout.modlistAddress).toBe(0n);
    const info = parseStartInfo(mem, 0x6000n);
    expect([info.cmdline, info.rsdp, info.modules.length, info.flags]).toEqual([0n, 0n, 0, 0]);
    expect(mem.readU64(0x6000n + 16n)).toBe(0n);
  });

  it.each<[string, () => unknown, string]>([
    [
      '129 memory map entries',
      () =>
        writeHvmStartInfo(guestRam([{ start: 0n, size: MiB }]), 0x6000n, {
          memoryMap: Array.from({ length: 129 }, (_, i) => ({
            addr: BigInt(i) << 12n,
            size: 0x1000n,
            type: 1,
          })),
        }),
      'E820_TOO_MANY_ENTRIES',
    ],
    [
      'a structure running past RAM',
      () => writeHvmStartInfo(guestRam([{ start: 0n, size: 0x7000 }]), 0x6fe0n, { memoryMap }),
      'BOOT_DATA_OUTSIDE_RAM',
    ],
    [
      'a module outside RAM',
      () =>
        writeHvmStartInfo(guestRam([{ start: 0n, size: MiB }]), 0x6000n, {
          memoryMap,
          modules: [{ address: 0xff000n, size: 0x2000 }],
        }),
      'BOOT_DATA_OUTSIDE_RAM',
    ],
    [
      'a command line outside RAM',
      () =>
        writeHvmStartInfo(guestRam([{ start: 0n, size: MiB }]), 0x6000n, {
          memoryMap,
          cmdlineAddress: 0x200000n,
        }),
      'BOOT_DATA_OUTSIDE_RAM',
    ],
    [
      'a structure above 4 GiB',
      () =>
        writeHvmStartInfo(guestRam([{ start: 0x1_0000_0000n, size: MiB }]), 0x1_0000_0000n, {
          memoryMap,
        }),
      'ADDRESS_ABOVE_4G',
    ],
  ])('refuses %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('writes nothing when it refuses', () => {
    const mem = guestRam([{ start: 0n, size: MiB }]);
    const before = snapshot(mem);
    expect(() =>
      writeHvmStartInfo(mem, 0x6000n, { memoryMap, modules: [{ address: 0xff000n, size: 0x2000 }] }),
    ).toThrow(LinuxLoaderError);
    expect(changedRuns(mem, before)).toEqual([]);
  });

  it('rejects bad arguments with TypeError and RangeError', () => {
    const mem = guestRam([{ start: 0n, size: MiB }]);
    expect(() => writeHvmStartInfo(mem, 0n, { memoryMap })).toThrow(RangeError);
    expect(() => writeHvmStartInfo(mem, 0x6004n, { memoryMap })).toThrow(RangeError);
    expect(() => writeHvmStartInfo(mem, 0x6000n, { memoryMap: [] })).toThrow(RangeError);
    expect(() => writeHvmStartInfo(mem, 0x6000n, { memoryMap, cmdlineAddress: 0n })).toThrow(RangeError);
    expect(() => writeHvmStartInfo(mem, 0x6000n, { memoryMap, modules: [{ address: 0n, size: 1 }] })).toThrow(
      RangeError,
    );
    expect(() =>
      writeHvmStartInfo(mem, 0x6000n, { memoryMap, modules: [{ address: 1n, size: -1 }] }),
    ).toThrow(RangeError);
    expect(() => writeHvmStartInfo(mem, 0x6000n, { memoryMap, flags: 2 ** 32 })).toThrow(RangeError);
    expect(() => writeHvmStartInfo(mem, 0x6000 as unknown as bigint, { memoryMap })).toThrow(TypeError);
  });
});
