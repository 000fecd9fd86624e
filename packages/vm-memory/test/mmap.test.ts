/**
 * What only real mappings do: memfd backing, sharing pages with other
 * mappings and threads, host addresses for KVM, hugepages, unmapping.
 */
import { fstatSync, readFileSync, readSync, writeSync } from 'node:fs';
import { addressOf, mmap, munmap, pageSize, SysError } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import { GuestMemoryArrayBuffer, GuestMemoryMmap, HUGE_PAGE_SIZE, MAX_REGION_SIZE } from '../src/index.js';
import { errorCode } from './support/codes.js';
import { runWorker, startWorker } from './support/worker.js';

const worker = new URL('./fixtures/memory-worker.ts', import.meta.url);
/** Worker tests start a thread that transpiles its sources: seconds on a busy 2-core machine. */
const WORKER_TIMEOUT = 60_000;
const RANGES = [
  { start: 0n, size: 0x10000 },
  { start: 0x100000n, size: 0x4000 },
];

describe('GuestMemoryMmap', () => {
  it('gives each region the host address of its mapping', () => {
    using mem = GuestMemoryMmap.fromRanges(RANGES);
    for (const r of mem.regions) {
      expect(r.hostAddress).toBe(addressOf(r.buffer as ArrayBuffer));
      expect(Number(r.hostAddress! % BigInt(pageSize()))).toBe(0);
    }
    expect(mem.memfd).toBeUndefined();
  });

  it('describes its regions as KVM memory slots', () => {
    using mem = GuestMemoryMmap.fromRanges(RANGES);
    expect(mem.userMemoryRegions(2, 1)).toEqual([
      {
        slot: 2,
        flags: 1,
        guest_phys_addr: 0n,
        memory_size: 0x10000n,
        userspace_addr: mem.regions[0]!.hostAddress,
      },
      {
        slot: 3,
        flags: 1,
        guest_phys_addr: 0x100000n,
        memory_size: 0x4000n,
        userspace_addr: mem.regions[1]!.hostAddress,
      },
    ]);
    expect(mem.userMemoryRegions()[0]?.slot).toBe(0);
    expect(() => mem.userMemoryRegions(-1)).toThrow(RangeError);
    expect(() => mem.userMemoryRegions(0xffff_ffff)).toThrow(RangeError);
    expect(() => mem.userMemoryRegions(0, 2 ** 32)).toThrow(RangeError);
  });

  it('keeps all regions in one memfd, back to back, so that a file read lands in guest RAM', () => {
    using mem = GuestMemoryMmap.fromRanges(RANGES, { backing: 'memfd' });
    const fd = mem.memfd!;
    expect(fstatSync(fd).size).toBe(0x14000);
    expect(mem.regions.map((r) => [r.fd, r.fileOffset])).toEqual([
      [fd, 0],
      [fd, 0x10000],
    ]);
    writeSync(fd, Buffer.from('hello'), 0, 5, 0x10000 + 0x10);
    expect(Buffer.from(mem.getSlice(0x100010n, 5)).toString()).toBe('hello');
    mem.writeSlice(0x20n, Buffer.from('world'));
    const back = Buffer.alloc(5);
    readSync(fd, back, 0, 5, 0x20);
    expect(back.toString()).toBe('world');
  });

  it('shares pages with another mapping of its memfd', () => {
    using mem = GuestMemoryMmap.fromRanges(RANGES, { backing: 'memfd' });
    const other = new BigUint64Array(mmap(0x4000, { fd: mem.memfd!, offset: 0x10000 }));
    mem.writeU64(0x100008n, 0x1234n);
    expect(other[1]).toBe(0x1234n);
    other[2] = 0x5678n;
    expect(mem.readU64(0x100010n)).toBe(0x5678n);
    munmap(other.buffer as ArrayBuffer);
  });

  it('splits ranges above 4 GiB into adjacent regions and reserves no memory up front', () => {
    using mem = GuestMemoryMmap.fromRanges([{ start: 0x1_0000_0000n, size: MAX_REGION_SIZE + 0x10000 }]);
    expect(mem.regions.map((r) => [r.start, r.size])).toEqual([
      [0x1_0000_0000n, MAX_REGION_SIZE],
      [0x2_0000_0000n, 0x10000],
    ]);
    mem.writeU64(0x1_ffff_fffcn, 0x1122334455667788n); // straddles the split
    expect(mem.readU64(0x1_ffff_fffcn)).toBe(0x1122334455667788n);
  });

  it('asks for transparent hugepages, and fails cleanly when hugetlb pages are not reserved', () => {
    using thp = GuestMemoryMmap.fromRanges([{ start: 0n, size: HUGE_PAGE_SIZE }], {
      hugepages: 'transparent',
    });
    thp.writeU8(0n, 1);
    expect(thp.readU8(0n)).toBe(1);
    expect(() => GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x1000 }], { hugepages: true })).toThrow(
      RangeError,
    );
    const reserved = Number(/HugePages_Free:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
    if (reserved === 0) {
      for (const backing of ['anonymous', 'memfd'] as const) {
        expect(() =>
          GuestMemoryMmap.fromRanges([{ start: 0n, size: HUGE_PAGE_SIZE }], { hugepages: true, backing }),
        ).toThrow(SysError);
      }
    }
  });

  it('checks ranges and options before mapping anything', () => {
    expect(() => GuestMemoryMmap.fromRanges([])).toThrow(TypeError);
    expect(() => GuestMemoryMmap.fromRanges([{ start: 0x10n, size: 0x1000 }])).toThrow(RangeError);
    expect(() => GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x1001 }])).toThrow(RangeError);
    expect(() => GuestMemoryMmap.fromRanges([{ start: 0n, size: 0 }])).toThrow(RangeError);
    expect(() => GuestMemoryMmap.fromRanges([{ start: 0 as unknown as bigint, size: 0x1000 }])).toThrow(
      TypeError,
    );
    expect(() =>
      GuestMemoryMmap.fromRanges([
        { start: 0n, size: 0x2000 },
        { start: 0x1000n, size: 0x1000 },
      ]),
    ).toThrow(/overlaps/);
    expect(() => GuestMemoryMmap.fromRanges([{ start: 2n ** 53n, size: 0x1000 }])).toThrow(RangeError);
    expect(() => GuestMemoryMmap.fromRanges(RANGES, { backing: 'file' as 'memfd' })).toThrow(TypeError);
    expect(() => GuestMemoryMmap.fromRanges(RANGES, { hugepages: 'yes' as 'transparent' })).toThrow(
      TypeError,
    );
    expect(() => GuestMemoryMmap.fromRanges(RANGES, { dirtyTracking: { pageSize: 3000 } })).toThrow(
      RangeError,
    );
  });

  it('sorts ranges given out of order', () => {
    using mem = GuestMemoryMmap.fromRanges([...RANGES].reverse());
    expect(mem.regions.map((r) => r.start)).toEqual([0n, 0x100000n]);
  });

  it('unmaps on close, after which every access fails with CLOSED', () => {
    const mem = GuestMemoryMmap.fromRanges(RANGES, { backing: 'memfd' });
    const fd = mem.memfd!;
    const slice = mem.getSlice(0x100n, 4);
    const rebuilt = GuestMemoryMmap.fromDescriptor(mem.toDescriptor(), { map: 'memfd' });
    mem.writeU32(0x100n, 0xdeadbeef);
    mem.close();
    expect(mem.closed).toBe(true);
    expect(slice.length).toBe(0); // detached: no view reaches the unmapped pages
    expect(errorCode(() => mem.readU32(0n))).toBe('CLOSED');
    expect(errorCode(() => mem.writeSlice(0x100000n, new Uint8Array(4)))).toBe('CLOSED');
    expect(errorCode(() => mem.loadU64(0n))).toBe('CLOSED');
    expect(errorCode(() => mem.getSlice(0n, 1))).toBe('CLOSED');
    expect(mem.regions).toEqual([]);
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
    mem.close(); // idempotent
    // Its own mapping of the memfd keeps the pages alive after the owner is gone.
    expect(rebuilt.readU32(0x100n)).toBe(0xdeadbeef);
    rebuilt.close();
    expect(errorCode(() => rebuilt.readU8(0n))).toBe('CLOSED');
  });

  it('keeps a new memory intact when an old one is closed and collected', async () => {
    // Regression: mapping finalizers running after close once unmapped the
    // next mapping that took the same address.
    for (let i = 0; i < 4; i++) {
      const old = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x10000 }]);
      old.close();
      const fresh = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x10000 }]);
      await new Promise((resolve) => setImmediate(resolve));
      fresh.writeU32(0xfff0n, i);
      expect(fresh.readU32(0xfff0n)).toBe(i);
      fresh.close();
    }
  });

  describe.each([
    ['anonymous', 'view'],
    ['memfd', 'view'],
    ['memfd', 'memfd'],
  ] as const)('shared with a worker (%s backing, worker maps by %s)', (backing, map) => {
    it(
      'lets the worker read and write the same pages and mark the same dirty bitmap',
      async () => {
        using mem = GuestMemoryMmap.fromRanges(RANGES, { backing, dirtyTracking: true });
        mem.writeU64(0x1000n, 41n);
        mem.regions[0]!.dirtyBitmap!.readAndReset();
        const descriptor = mem.toDescriptor();
        const reply = await runWorker<{ seen: bigint; hostAddresses: bigint[]; dirty: boolean }>(worker, {
          descriptor,
          map,
          task: 'roundtrip',
        });
        expect(reply.seen).toBe(41n);
        expect(mem.readU64(0x2000n)).toBe(42n);
        expect(reply.dirty).toBe(true);
        expect(mem.regions[0]!.dirtyBitmap!.isDirty(0x2000)).toBe(true);
        const own = mem.regions.map((r) => r.hostAddress);
        if (map === 'view') expect(reply.hostAddresses).toEqual(own);
        else expect(reply.hostAddresses).not.toEqual(own); // its own mapping of the same memfd
      },
      WORKER_TIMEOUT,
    );
  });

  it('rejects descriptors it cannot use', () => {
    using mem = GuestMemoryMmap.fromRanges(RANGES);
    expect(() => GuestMemoryMmap.fromDescriptor(mem.toDescriptor(), { map: 'memfd' })).toThrow(TypeError);
    expect(() => GuestMemoryMmap.fromDescriptor({ kind: 'arraybuffer', regions: [] })).toThrow(TypeError);
    expect(() =>
      GuestMemoryMmap.fromDescriptor({ kind: 'mmap', regions: [{ start: 0n, size: 0x1000 }] }),
    ).toThrow(TypeError);
  });

  it(
    'never shows a torn aligned value while another thread flips it',
    async () => {
      using mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x1000 }]);
      const w = startWorker(worker, { descriptor: mem.toDescriptor(), task: 'flip' });
      const reply = new Promise<{ flips: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      const deadline = Date.now() + 10_000;
      while (mem.loadU32(0x1cn) === 0 && Date.now() < deadline) {
        // spin until the worker runs
      }
      const seen = {
        u64: new Set<bigint>(),
        atomic: new Set<bigint>(),
        u32: new Set<number>(),
        u16: new Set<number>(),
      };
      for (let i = 0; i < 100_000; i++) {
        seen.u64.add(mem.readU64(0x0n));
        seen.atomic.add(mem.loadU64(0x8n));
        seen.u32.add(mem.readU32(0x10n));
        seen.u16.add(mem.readU16(0x14n));
      }
      mem.storeU32(0x18n, 1);
      const { flips } = await reply;
      await w.terminate();
      expect(flips).toBeGreaterThan(0);
      const all64 = new Set([0n, 0xffff_ffff_ffff_ffffn]);
      for (const v of seen.u64) expect(all64.has(v)).toBe(true);
      for (const v of seen.atomic) expect(all64.has(v)).toBe(true);
      for (const v of seen.u32) expect([0, 0xffffffff]).toContain(v);
      for (const v of seen.u16) expect([0, 0xffff]).toContain(v);
    },
    WORKER_TIMEOUT,
  );
});

describe('GuestMemoryArrayBuffer sharing', () => {
  it(
    'shares SharedArrayBuffer-backed memory and its dirty bitmap with a worker',
    async () => {
      const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x4000 }], {
        shared: true,
        dirtyTracking: { pageSize: 0x1000 },
      });
      mem.writeU64(0x1000n, 7n);
      mem.regions[0]!.dirtyBitmap!.readAndReset();
      const reply = await runWorker<{ seen: bigint; dirty: boolean }>(worker, {
        descriptor: mem.toDescriptor(),
        task: 'roundtrip',
      });
      expect(reply.seen).toBe(7n);
      expect(mem.readU64(0x2000n)).toBe(8n);
      expect(mem.regions[0]!.dirtyBitmap!.isDirty(0x2000)).toBe(true);
    },
    WORKER_TIMEOUT,
  );

  it('refuses to describe unshared memory and to rebuild from a bad descriptor', () => {
    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x1000 }]);
    expect(() => mem.toDescriptor()).toThrow(TypeError);
    expect(() => GuestMemoryArrayBuffer.fromDescriptor({ kind: 'mmap', regions: [] })).toThrow(TypeError);
    expect(() =>
      GuestMemoryArrayBuffer.fromDescriptor({ kind: 'arraybuffer', regions: [{ start: 0n, size: 8 }] }),
    ).toThrow(TypeError);
  });
});
