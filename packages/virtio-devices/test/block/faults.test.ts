/**
 * Requests a driver gets wrong, and host failures: each is answered with the
 * status the spec asks for (or returned with used length 0 when it has no
 * status byte), counted under its name, logged once, and the device goes on.
 */
import { openSync, readFileSync, truncateSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_MAX_WRITE_ZEROES_SECTORS,
  Block,
  type BlockFault,
  DiskImage,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_GET_LIFETIME,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_SECURE_ERASE,
  VIRTIO_BLK_T_WRITE_ZEROES,
} from '../../src/block/index.js';
import { BlockBench, header, patternByte, segment, tempDir } from './helpers.js';

const filled = (length: number, value: number) => new Uint8Array(length).fill(value);

/** The faults counted so far, without the zeroes. */
function faults(bench: BlockBench): Partial<Record<BlockFault, number>> {
  return Object.fromEntries(Object.entries(bench.device.metrics.faults).filter(([, n]) => n > 0));
}

describe('requests answered VIRTIO_BLK_S_IOERR', () => {
  const cases: Array<[string, BlockFault, (b: BlockBench) => ReturnType<BlockBench['post']>]> = [
    [
      'a header shorter than 16 bytes',
      'HEADER_TOO_SHORT',
      (b) => b.post([{ data: header(0).subarray(0, 15) }, { len: 1, write: true }]),
    ],
    ['no header at all, only a status byte', 'HEADER_TOO_SHORT', (b) => b.post([{ len: 1, write: true }])],
    [
      'a read with readable data after the header',
      'WRONG_DIRECTION',
      (b) =>
        b.post([{ data: header(VIRTIO_BLK_T_IN, 0) }, { data: filled(512, 1) }, { len: 513, write: true }]),
    ],
    [
      'a write with writable data before the status',
      'WRONG_DIRECTION',
      (b) => b.request(VIRTIO_BLK_T_OUT, 0, { out: filled(512, 1), in: 512 }),
    ],
    [
      'a flush carrying data',
      'WRONG_DIRECTION',
      (b) => b.request(VIRTIO_BLK_T_FLUSH, 0, { out: filled(512, 1) }),
    ],
    ['a flush with room for data', 'WRONG_DIRECTION', (b) => b.request(VIRTIO_BLK_T_FLUSH, 0, { in: 512 })],
    [
      'a GET_ID carrying data',
      'WRONG_DIRECTION',
      (b) => b.request(VIRTIO_BLK_T_GET_ID, 0, { out: filled(4, 1), in: 20 }),
    ],
    [
      'a write-zeroes with room for data',
      'WRONG_DIRECTION',
      (b) => b.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, 1), in: 16 }),
    ],
    ['a read of 100 bytes', 'UNALIGNED_LENGTH', (b) => b.request(VIRTIO_BLK_T_IN, 0, { in: 100 })],
    [
      'a write of 513 bytes',
      'UNALIGNED_LENGTH',
      (b) => b.request(VIRTIO_BLK_T_OUT, 0, { out: filled(513, 1) }),
    ],
    ['a read past the last sector', 'OUT_OF_RANGE', (b) => b.request(VIRTIO_BLK_T_IN, 127, { in: 1024 })],
    ['a read starting at the capacity', 'OUT_OF_RANGE', (b) => b.request(VIRTIO_BLK_T_IN, 128, { in: 512 })],
    [
      'a write whose sector + length overflows 64 bits',
      'OUT_OF_RANGE',
      (b) => b.request(VIRTIO_BLK_T_OUT, 0xffff_ffff_ffff_ffffn, { out: filled(512, 1) }),
    ],
    [
      'a read at sector 2^55 (offset beyond 2^64)',
      'OUT_OF_RANGE',
      (b) => b.request(VIRTIO_BLK_T_IN, 1n << 55n, { in: 512 }),
    ],
    [
      'a write-zeroes past the end',
      'OUT_OF_RANGE',
      (b) => b.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(120, 9) }),
    ],
    ['a GET_ID of 19 bytes', 'BAD_ID_LENGTH', (b) => b.request(VIRTIO_BLK_T_GET_ID, 0, { in: 19 })],
    ['a GET_ID of 21 bytes', 'BAD_ID_LENGTH', (b) => b.request(VIRTIO_BLK_T_GET_ID, 0, { in: 21 })],
    ['a write-zeroes without a segment', 'BAD_SEGMENTS', (b) => b.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, {})],
    [
      'a write-zeroes of 15 bytes',
      'BAD_SEGMENTS',
      (b) => b.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, 1).subarray(0, 15) }),
    ],
    [
      'a write-zeroes of two segments (max_write_zeroes_seg is 1)',
      'BAD_SEGMENTS',
      (b) => b.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: Buffer.concat([segment(0, 1), segment(2, 1)]) }),
    ],
    [
      'a write-zeroes longer than max_write_zeroes_sectors',
      'BAD_SEGMENTS',
      (b) => b.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, BLOCK_MAX_WRITE_ZEROES_SECTORS + 1) }),
    ],
  ];

  it.each(cases)('%s: %s, status byte only, disk untouched', (_, fault, post) => {
    const bench = new BlockBench({ size: 128 * 512 });
    const before = readFileSync(bench.path);
    const req = post(bench);
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 1 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(faults(bench)).toEqual({ [fault]: 1 });
    expect(readFileSync(bench.path)).toEqual(before);
  });
});

describe('requests answered VIRTIO_BLK_S_UNSUPP', () => {
  const types: Array<[string, number]> = [
    ['DISCARD (not offered)', VIRTIO_BLK_T_DISCARD],
    ['SECURE_ERASE', VIRTIO_BLK_T_SECURE_ERASE],
    ['GET_LIFETIME', VIRTIO_BLK_T_GET_LIFETIME],
    ['the legacy SCSI command', 2],
    ['a zone report', 16],
    ['a legacy barrier read', 0x8000_0000],
    ['type 0xffffffff', 0xffff_ffff],
  ];

  it.each(types)('%s', (_, type) => {
    const bench = new BlockBench();
    const before = readFileSync(bench.path);
    const req = bench.request(type, 0, { out: segment(0, 1) });
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 1 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(faults(bench)).toEqual({ UNSUPPORTED: 1 });
    expect(bench.device.metrics.unsupported).toBe(1);
    expect(readFileSync(bench.path)).toEqual(before);
  });

  it('a write-zeroes segment with a flag other than unmap (§5.2.6.2), disk untouched', () => {
    const bench = new BlockBench();
    const before = readFileSync(bench.path);
    const req = bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, 1, 2) });
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(faults(bench)).toEqual({ UNKNOWN_FLAGS: 1 });
    expect(readFileSync(bench.path)).toEqual(before);
  });
});

describe('chains without a status byte', () => {
  it('are returned with used length 0 and not carried out', () => {
    const bench = new BlockBench();
    const before = readFileSync(bench.path);
    // A write whose "status" byte is device-readable, and one with no status at all.
    const a = bench.post([{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: filled(512, 7) }, { len: 1 }]);
    const b = bench.post([{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: filled(512, 7) }]);
    // A zero-length writable buffer is no status byte either.
    const c = bench.post([{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 0, write: true }]);
    expect(bench.run()).toEqual([
      { id: a.chain.head, len: 0 },
      { id: b.chain.head, len: 0 },
      { id: c.chain.head, len: 0 },
    ]);
    expect(faults(bench)).toEqual({ NO_STATUS: 3 });
    expect(readFileSync(bench.path)).toEqual(before);
  });
});

describe('host I/O failures', () => {
  it('a read beyond the end of an image that shrank under the VMM: IOERR, the bytes read counted', () => {
    const bench = new BlockBench({ size: 8192 });
    truncateSync(bench.path, 7 * 512 + 100);
    const req = bench.request(VIRTIO_BLK_T_IN, 7, { in: 1024 });
    expect(bench.run().map((u) => u.len)).toEqual([101]);
    expect(req.status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(req.dataIn().subarray(0, 100)).toEqual(
      Uint8Array.from({ length: 100 }, (_, i) => patternByte(7 * 512 + i)),
    );
    expect(faults(bench)).toEqual({ IO_ERROR: 1 });
  });

  /** A device over a file descriptor that fails the way a broken disk does. */
  function brokenDevice(path: string, flags: string) {
    const disk = DiskImage.fromDescriptor({
      fd: openSync(path, flags),
      readOnly: false,
      size: 1 << 20,
      path,
    });
    const logs: string[] = [];
    const device = new Block(disk, { log: (m) => logs.push(m) });
    return { disk, device, logs };
  }

  it('a write that fails (ENOSPC), a flush that fails (EINVAL), a read that fails (EISDIR): IOERR, logged once each', () => {
    const full = brokenDevice('/dev/full', 'r+');
    const bench = new BlockBench();
    bench.device.reset();
    full.device.activate(bench.activation(full.device.availFeatures));
    const w1 = bench.request(VIRTIO_BLK_T_OUT, 0, { out: filled(512, 1) });
    const w2 = bench.request(VIRTIO_BLK_T_OUT, 8, { out: filled(512, 1) });
    const f = bench.request(VIRTIO_BLK_T_FLUSH, 0);
    full.device.processQueue(0);
    expect(bench.driver.takeUsed().map((u) => u.len)).toEqual([1, 1, 1]);
    expect([w1.status(), w2.status(), f.status()]).toEqual([
      VIRTIO_BLK_S_IOERR,
      VIRTIO_BLK_S_IOERR,
      VIRTIO_BLK_S_IOERR,
    ]);
    expect(full.device.metrics.faults.IO_ERROR).toBe(3);
    expect(full.logs).toHaveLength(1);
    expect(full.logs[0]).toMatch(/IO_ERROR.*ENOSPC/);
    full.device.close();

    const dir = brokenDevice(tempDir(), 'r');
    const bench2 = new BlockBench();
    bench2.device.reset();
    dir.device.activate(bench2.activation(dir.device.availFeatures));
    const r = bench2.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    dir.device.processQueue(0);
    expect(bench2.driver.takeUsed().map((u) => u.len)).toEqual([1]);
    expect(r.status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(dir.logs[0]).toMatch(/IO_ERROR.*EISDIR/);
    dir.device.close();
  });
});

describe('after a fault', () => {
  it('the device goes on serving the next request, and logs each kind of fault once', () => {
    const bench = new BlockBench();
    const bad1 = bench.request(VIRTIO_BLK_T_IN, 0, { in: 100 });
    const good = bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    const bad2 = bench.request(VIRTIO_BLK_T_IN, 0, { in: 200 });
    const bad3 = bench.request(VIRTIO_BLK_T_GET_ID, 0, { in: 3 });
    expect(bench.run().map((u) => u.len)).toEqual([1, 513, 1, 1]);
    expect([bad1.status(), good.status(), bad2.status(), bad3.status()]).toEqual([
      VIRTIO_BLK_S_IOERR,
      VIRTIO_BLK_S_OK,
      VIRTIO_BLK_S_IOERR,
      VIRTIO_BLK_S_IOERR,
    ]);
    expect(faults(bench)).toEqual({ UNALIGNED_LENGTH: 2, BAD_ID_LENGTH: 1 });
    expect(bench.logs).toHaveLength(2);
    expect(bench.logs[0]).toContain('UNALIGNED_LENGTH');
    expect(bench.logs[1]).toContain('BAD_ID_LENGTH');
  });
});
