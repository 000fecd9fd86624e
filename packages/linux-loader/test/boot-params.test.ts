import { describe, expect, it } from 'vitest';
import {
  BOOT_E820_ENTRY_SIZE,
  BOOT_PARAMS_OFFSETS,
  BOOT_PARAMS_SIZE,
  CAN_USE_HEAP,
  Cmdline,
  E820_MAX_ENTRIES_ZEROPAGE,
  E820_RAM,
  E820_RESERVED,
  type E820Entry,
  type KernelLoadResult,
  LinuxLoaderError,
  type LinuxLoaderErrorCode,
  LOADED_HIGH,
  loadBzImage,
  loadCmdline,
  loadElf,
  memoryMapFromGuestMemory,
  QUIET_FLAG,
  SETUP_HEADER_FIELDS,
  SETUP_HEADER_OFFSET,
  writeBootParams,
} from '../src/index.js';
import { bootParamsLayout, decodeBootParams } from './support/bootparam-c.js';
import { buildBzImage } from './support/bzimage-builder.js';
import { buildElf, pattern } from './support/elf-builder.js';
import { errorOf } from './support/errors.js';
import { changedRuns, guestRam, MiB, readGuest, snapshot } from './support/memory.js';

describe('zero page layout', () => {
  it('matches struct boot_params of <asm/bootparam.h>', () => {
    const c = bootParamsLayout();
    expect(BOOT_PARAMS_SIZE).toBe(c.sizeof_boot_params);
    expect(BOOT_E820_ENTRY_SIZE).toBe(c.sizeof_boot_e820_entry);
    expect(E820_MAX_ENTRIES_ZEROPAGE).toBe(c.e820_max);
    for (const [name, offset] of Object.entries(BOOT_PARAMS_OFFSETS))
      expect(offset, name).toBe(c.offsets[name]);
    for (const [cName, , offset] of SETUP_HEADER_FIELDS)
      expect(offset, cName).toBe(c.offsets[`hdr.${cName}`]);
    const last = SETUP_HEADER_FIELDS[SETUP_HEADER_FIELDS.length - 1]!;
    expect(last[2] + last[3] - SETUP_HEADER_OFFSET).toBe(c.sizeof_setup_header);
  });
});

describe('writeBootParams', () => {
  const ram = () => guestRam([{ start: 0n, size: 64 * MiB }]);
  const e820: E820Entry[] = [
    { addr: 0n, size: 0x9fc00n, type: E820_RAM },
    { addr: 0x9fc00n, size: 0x60400n, type: E820_RESERVED },
    { addr: 0x100000n, size: 0x3f00000n, type: E820_RAM },
  ];

  it('copies a bzImage header and fills in what the loader owns', () => {
    const mem = ram();
    const image = buildBzImage({ xloadflags: 0x01, initrdAddrMax: 0x37ffffff, cmdlineSize: 0xff });
    const kernel = loadBzImage(mem, image, { loadAddress: 0x200000n });
    const cmdline = loadCmdline(mem, 0x20000n, new Cmdline(256).insertStr('console=ttyS0 panic=-1'));
    expect(cmdline).toEqual({ address: 0x20000n, size: 23 });
    expect(new TextDecoder().decode(readGuest(mem, 0x20000n, 23))).toBe('console=ttyS0 panic=-1\0');
    const before = snapshot(mem);
    const range = writeBootParams(mem, 0x7000n, {
      kernel,
      cmdline,
      initrd: { address: 0x3000000n, size: 0x12345 },
      e820,
      typeOfLoader: 0xb0,
      vidMode: 0xfffe,
      loadflags: QUIET_FLAG,
      heapEndPtr: 0xde00,
      acpiRsdpAddress: 0xe0000n,
      setupData: 0x8000n,
    });
    expect(range).toEqual({ start: 0x7000n, end: 0x8000n });
    expect(changedRuns(mem, before).every(([s, e]) => s >= 0x7000n && e <= 0x8000n)).toBe(true);

    const page = readGuest(mem, 0x7000n, 0x1000);
    const c = decodeBootParams(page);
    // Fields copied from the image stay as the image has them.
    const imageHeader = decodeBootParams(image.subarray(0, 0x1000)).hdr;
    for (const f of [
      'setup_sects',
      'syssize',
      'boot_flag',
      'header',
      'version',
      'kernel_alignment',
      'init_size',
    ] as const) {
      expect(c.hdr[f], f).toBe(imageHeader[f]);
    }
    expect(c.hdr.type_of_loader).toBe(0xb0n);
    expect(c.hdr.vid_mode).toBe(0xfffen);
    expect(c.hdr.loadflags).toBe(BigInt(LOADED_HIGH | QUIET_FLAG | CAN_USE_HEAP));
    expect(c.hdr.heap_end_ptr).toBe(0xde00n);
    expect(c.hdr.code32_start).toBe(0x200000n);
    expect(c.hdr.cmd_line_ptr).toBe(0x20000n);
    expect(c.hdr.ramdisk_image).toBe(0x3000000n);
    expect(c.hdr.ramdisk_size).toBe(0x12345n);
    expect(c.hdr.setup_data).toBe(0x8000n);
    expect(c.fields.ext_cmd_line_ptr).toBe(0n);
    expect(c.fields.ext_ramdisk_image).toBe(0n);
    expect(c.fields.ext_ramdisk_size).toBe(0n);
    expect(c.fields.acpi_rsdp_addr).toBe(0xe0000n);
    expect(c.fields.sentinel).toBe(0n);
    expect(c.fields.e820_entries).toBe(3n);
    expect(c.e820.slice(0, 3)).toEqual(e820);
    expect(c.e820.slice(3).every((e) => e.addr === 0n && e.size === 0n && e.type === 0)).toBe(true);
    // Nothing outside the header, the e820 fields and the few pointers is set.
    const touched = new Set<number>();
    const mark = (from: number, length: number) => {
      for (let i = from; i < from + length; i++) touched.add(i);
    };
    mark(0x1f1, 0x202 + image[0x201]! - 0x1f1);
    mark(0x070, 8);
    mark(0x1e8, 1);
    mark(0x2d0, 3 * 20);
    page.forEach((b, i) => {
      if (!touched.has(i)) expect(b, `byte ${i.toString(16)}`).toBe(0);
    });
  });

  it('writes a minimal header for an ELF kernel and splits 64-bit addresses', () => {
    const mem = guestRam([
      { start: 0n, size: 16 * MiB },
      { start: 0x1_0000_0000n, size: 16 * MiB },
    ]);
    const kernel = loadElf(
      mem,
      buildElf({ entry: 0x200000n, segments: [{ paddr: 0x200000n, data: pattern(64) }] }),
    );
    const cmdline = loadCmdline(mem, 0x1_0000_2000n, new Cmdline(64).insert('root', '/dev/vda'));
    writeBootParams(mem, 0x1_0000_0000n, {
      kernel,
      cmdline,
      initrd: { address: 0x1_0040_0000n, size: 0x80_0000 },
      e820: memoryMapFromGuestMemory(mem),
    });
    const c = decodeBootParams(readGuest(mem, 0x1_0000_0000n, 0x1000));
    expect(c.hdr.boot_flag).toBe(0xaa55n);
    expect(c.hdr.header).toBe(0x53726448n);
    expect(c.hdr.type_of_loader).toBe(0xffn);
    expect(c.hdr.version).toBe(0n);
    expect(c.hdr.loadflags).toBe(0n);
    expect(c.hdr.cmd_line_ptr + (c.fields.ext_cmd_line_ptr << 32n)).toBe(0x1_0000_2000n);
    expect(c.hdr.ramdisk_image + (c.fields.ext_ramdisk_image << 32n)).toBe(0x1_0040_0000n);
    expect(c.hdr.ramdisk_size + (c.fields.ext_ramdisk_size << 32n)).toBe(0x80_0000n);
    expect(c.fields.e820_entries).toBe(2n);
    expect(c.e820.slice(0, 2)).toEqual([
      { addr: 0n, size: 0x100_0000n, type: E820_RAM },
      { addr: 0x1_0000_0000n, size: 0x100_0000n, type: E820_RAM },
    ]);
  });

  it('works without a kernel, command line or initrd', () => {
    const mem = ram();
    writeBootParams(mem, 0x1000n, { e820: [] });
    const c = decodeBootParams(readGuest(mem, 0x1000n, 0x1000));
    expect(c.hdr.cmd_line_ptr).toBe(0n);
    expect(c.hdr.ramdisk_image).toBe(0n);
    expect(c.fields.e820_entries).toBe(0n);
  });

  describe('refuses', () => {
    const bz = (spec = {}) => {
      const mem = ram();
      return { mem, kernel: loadBzImage(mem, buildBzImage({ xloadflags: 0x01, ...spec })) };
    };
    const cases: Array<[string, () => void, LinuxLoaderErrorCode]> = [
      [
        '129 memory map entries',
        () => {
          const many = Array.from({ length: 129 }, (_, i) => ({
            addr: BigInt(i) << 20n,
            size: 0x1000n,
            type: 1,
          }));
          writeBootParams(ram(), 0x1000n, { e820: many });
        },
        'E820_TOO_MANY_ENTRIES',
      ],
      [
        'a command line longer than cmdline_size',
        () => {
          const { mem, kernel } = bz({ cmdlineSize: 8 });
          writeBootParams(mem, 0x1000n, { kernel, cmdline: { address: 0x20000n, size: 10 }, e820 });
        },
        'CMDLINE_TOO_LONG',
      ],
      [
        'an initrd above initrd_addr_max',
        () => {
          const { mem, kernel } = bz({ initrdAddrMax: 0x2ffffff });
          writeBootParams(mem, 0x1000n, { kernel, initrd: { address: 0x2fff000n, size: 0x1001 }, e820 });
        },
        'INITRD_ABOVE_ADDR_MAX',
      ],
      [
        'a command line above 4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G',
        () => {
          const mem = guestRam([
            { start: 0n, size: 48 * MiB },
            { start: 0x1_0000_0000n, size: 0x10000 },
          ]);
          const kernel = loadBzImage(mem, buildBzImage({ xloadflags: 0x01 }));
          writeBootParams(mem, 0x1000n, { kernel, cmdline: { address: 0x1_0000_0000n, size: 4 }, e820 });
        },
        'ADDRESS_ABOVE_4G',
      ],
      [
        'a zero page outside guest RAM',
        () => writeBootParams(ram(), 0x3fff800n, { e820 }),
        'BOOT_DATA_OUTSIDE_RAM',
      ],
      [
        'a command line outside guest RAM',
        () => writeBootParams(ram(), 0x1000n, { cmdline: { address: 0x8000000n, size: 4 }, e820 }),
        'BOOT_DATA_OUTSIDE_RAM',
      ],
      [
        'an initrd outside guest RAM',
        () => writeBootParams(ram(), 0x1000n, { initrd: { address: 0x3fff000n, size: 0x2000 }, e820 }),
        'BOOT_DATA_OUTSIDE_RAM',
      ],
      [
        'loading a command line outside guest RAM',
        () => loadCmdline(ram(), 0x3ffffffn, new Cmdline(8).insertStr('ab')),
        'BOOT_DATA_OUTSIDE_RAM',
      ],
    ];
    it.each(cases)('%s', (_name, fn, code) => {
      expect(errorOf(fn).code).toBe(code);
    });

    it('writes nothing when it refuses', () => {
      const mem = ram();
      const before = snapshot(mem);
      expect(() =>
        writeBootParams(mem, 0x1000n, { cmdline: { address: 0x8000000n, size: 4 }, e820 }),
      ).toThrow(LinuxLoaderError);
      expect(changedRuns(mem, before)).toEqual([]);
    });

    it('argument errors as TypeError and RangeError', () => {
      const mem = ram();
      expect(() => writeBootParams(mem, 0x1000 as unknown as bigint, { e820 })).toThrow(TypeError);
      expect(() => writeBootParams(mem, 0x1000n, { e820: {} as unknown as E820Entry[] })).toThrow(TypeError);
      expect(() => writeBootParams(mem, 0x1000n, { e820: [{ addr: -1n, size: 1n, type: 1 }] })).toThrow(
        RangeError,
      );
      expect(() => writeBootParams(mem, 0x1000n, { e820: [{ addr: 1n, size: 1n, type: -1 }] })).toThrow(
        RangeError,
      );
      expect(() =>
        writeBootParams(mem, 0x1000n, { e820: [{ addr: 0xffff_ffff_ffff_f000n, size: 0x2000n, type: 1 }] }),
      ).toThrow(RangeError);
      expect(() => writeBootParams(mem, 0x1000n, { e820, typeOfLoader: 256 })).toThrow(RangeError);
      expect(() => writeBootParams(mem, 0x1000n, null as unknown as { e820: E820Entry[] })).toThrow(
        TypeError,
      );
      const k = {} as KernelLoadResult;
      expect(() => writeBootParams(mem, 0x1000n, { kernel: k, e820, heapEndPtr: 0x10000 })).toThrow(
        RangeError,
      );
    });
  });
});

describe('memoryMapFromGuestMemory', () => {
  it('merges adjacent regions and cuts reserved ranges out of RAM', () => {
    const mem = guestRam([
      { start: 0n, size: 0x100000 },
      { start: 0x100000n, size: 0x100000 },
      { start: 0x1000000n, size: 0x100000 },
    ]);
    expect(
      memoryMapFromGuestMemory(mem, [
        { start: 0x9fc00n, end: 0x100000n },
        { start: 0xf00000n, end: 0x1001000n },
      ]),
    ).toEqual([
      { addr: 0n, size: 0x9fc00n, type: E820_RAM },
      { addr: 0x9fc00n, size: 0x60400n, type: E820_RESERVED },
      { addr: 0x100000n, size: 0x100000n, type: E820_RAM },
      { addr: 0xf00000n, size: 0x101000n, type: E820_RESERVED },
      { addr: 0x1001000n, size: 0xff000n, type: E820_RAM },
    ]);
  });

  it('rejects empty and overlapping reserved ranges', () => {
    const mem = guestRam([{ start: 0n, size: 0x100000 }]);
    expect(() => memoryMapFromGuestMemory(mem, [{ start: 0x2000n, end: 0x2000n }])).toThrow(RangeError);
    expect(() =>
      memoryMapFromGuestMemory(mem, [
        { start: 0x2000n, end: 0x4000n },
        { start: 0x3000n, end: 0x5000n },
      ]),
    ).toThrow(RangeError);
  });
});
