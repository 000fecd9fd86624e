/** Every request type the block device serves, against a real image file. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import {
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
} from '../../src/block/index.js';
import { BlockBench, header, patternByte, segment } from './helpers.js';

const pattern = (from: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => patternByte(from + i));
const filled = (length: number, value: number) => new Uint8Array(length).fill(value);
const bit = (n: number) => 1n << BigInt(n);

describe('VIRTIO_BLK_T_IN', () => {
  it('reads sectors into the guest buffer; used length counts the data and the status byte', () => {
    const bench = new BlockBench();
    const req = bench.request(VIRTIO_BLK_T_IN, 3, { in: 1024 });
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 1025 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    expect(req.dataIn()).toEqual(pattern(3 * 512, 1024));
    expect(bench.device.metrics).toMatchObject({ reads: 1, readBytes: 1024, completed: 1 });
  });

  it('fills data spread over uneven buffers and an indirect table, in order', () => {
    const bench = new BlockBench();
    const req = bench.post(
      [
        { data: header(VIRTIO_BLK_T_IN, 10) },
        { len: 100, write: true },
        { len: 1, write: true },
        { len: 1947, write: true },
        { len: 1, write: true },
      ],
      { indirect: true },
    );
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 2049 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    expect(req.dataIn()).toEqual(pattern(10 * 512, 2048));
  });

  it('reads the last sector of the disk, and nothing at its end', () => {
    const bench = new BlockBench({ size: 8192 });
    const last = bench.request(VIRTIO_BLK_T_IN, 15, { in: 512 });
    const empty = bench.request(VIRTIO_BLK_T_IN, 16, {});
    expect(bench.run().map((u) => u.len)).toEqual([513, 1]);
    expect(last.dataIn()).toEqual(pattern(15 * 512, 512));
    expect(empty.status()).toBe(VIRTIO_BLK_S_OK);
  });

  it('works on a read-only disk', () => {
    const bench = new BlockBench({ readOnly: true });
    const req = bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    expect(req.dataIn()).toEqual(pattern(0, 512));
  });
});

describe('VIRTIO_BLK_T_OUT', () => {
  it('writes the data to the image file; used length is the status byte', () => {
    const bench = new BlockBench();
    const data = Uint8Array.from({ length: 1536 }, (_, i) => (i * 31) & 0xff);
    const req = bench.request(VIRTIO_BLK_T_OUT, 5, { out: data });
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 1 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    const file = readFileSync(bench.path);
    expect(file.subarray(5 * 512, 8 * 512)).toEqual(Buffer.from(data));
    // Neighbouring sectors are untouched.
    expect(file.subarray(4 * 512, 5 * 512)).toEqual(Buffer.from(pattern(4 * 512, 512)));
    expect(file.subarray(8 * 512, 9 * 512)).toEqual(Buffer.from(pattern(8 * 512, 512)));
    expect(bench.device.metrics).toMatchObject({ writes: 1, writeBytes: 1536 });
  });

  it('gathers data from several readable buffers after the header', () => {
    const bench = new BlockBench();
    const req = bench.post([
      { data: header(VIRTIO_BLK_T_OUT, 1) },
      { data: filled(12, 0xaa) },
      { data: filled(500, 0xbb) },
      { len: 1, write: true },
    ]);
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    const sector = readFileSync(bench.path).subarray(512, 1024);
    expect(sector).toEqual(Buffer.concat([Buffer.from(filled(12, 0xaa)), Buffer.from(filled(500, 0xbb))]));
  });

  it('is synced before it completes when the driver did not accept FLUSH (writethrough)', () => {
    const bench = new BlockBench({ acked: (f) => f & ~bit(VIRTIO_BLK_F_FLUSH) });
    const flush = vi.spyOn(bench.disk, 'flush');
    bench.request(VIRTIO_BLK_T_OUT, 0, { out: filled(512, 1) });
    bench.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    bench.run();
    expect(flush).toHaveBeenCalledTimes(1);
  });

  it('is left to the page cache until a flush when the driver accepted FLUSH (writeback)', () => {
    const bench = new BlockBench();
    const flush = vi.spyOn(bench.disk, 'flush');
    bench.request(VIRTIO_BLK_T_OUT, 0, { out: filled(512, 1) });
    bench.run();
    expect(flush).not.toHaveBeenCalled();
    const req = bench.request(VIRTIO_BLK_T_FLUSH, 0);
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    expect(flush).toHaveBeenCalledTimes(1);
  });
});

describe('VIRTIO_BLK_T_FLUSH', () => {
  it('fdatasyncs the image and answers OK with used length 1', () => {
    const bench = new BlockBench();
    const req = bench.request(VIRTIO_BLK_T_FLUSH, 0);
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 1 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    expect(bench.device.metrics.flushes).toBe(1);
  });

  it('ignores the sector, which the driver should have left 0', () => {
    const bench = new BlockBench();
    const req = bench.request(VIRTIO_BLK_T_FLUSH, 12345);
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
  });

  it('works on a read-only disk', () => {
    const bench = new BlockBench({ readOnly: true });
    const req = bench.request(VIRTIO_BLK_T_FLUSH, 0);
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
  });
});

describe('VIRTIO_BLK_T_GET_ID', () => {
  it('returns the serial NUL-padded to 20 bytes', () => {
    const bench = new BlockBench({ serial: 'tsvmm-disk0' });
    const req = bench.request(VIRTIO_BLK_T_GET_ID, 0, { in: 20 });
    expect(bench.run()).toEqual([{ id: req.chain.head, len: 21 }]);
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    expect(Buffer.from(req.dataIn()).toString('latin1')).toBe(`tsvmm-disk0${'\0'.repeat(9)}`);
    expect(bench.device.metrics.getIds).toBe(1);
  });

  it('has no NUL terminator when the serial is 20 bytes long', () => {
    const bench = new BlockBench({ serial: '01234567890123456789' });
    const req = bench.request(VIRTIO_BLK_T_GET_ID, 0, { in: 20 });
    bench.run();
    expect(Buffer.from(req.dataIn()).toString('latin1')).toBe('01234567890123456789');
  });

  it('is 20 NUL bytes without a serial', () => {
    const bench = new BlockBench();
    const req = bench.request(VIRTIO_BLK_T_GET_ID, 0, { in: 20 });
    bench.run();
    expect(req.dataIn()).toEqual(new Uint8Array(20));
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
  });
});

describe('VIRTIO_BLK_T_WRITE_ZEROES', () => {
  it('zeroes the range in the image, with or without unmap', () => {
    const bench = new BlockBench();
    const a = bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(2, 3) });
    const b = bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, {
      out: segment(9, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
    });
    expect(bench.run().map((u) => u.len)).toEqual([1, 1]);
    expect([a.status(), b.status()]).toEqual([VIRTIO_BLK_S_OK, VIRTIO_BLK_S_OK]);
    const file = readFileSync(bench.path);
    expect(file.subarray(2 * 512, 5 * 512)).toEqual(Buffer.alloc(1536));
    expect(file.subarray(9 * 512, 10 * 512)).toEqual(Buffer.alloc(512));
    expect(file.subarray(5 * 512, 9 * 512)).toEqual(Buffer.from(pattern(5 * 512, 4 * 512)));
    expect(bench.device.metrics).toMatchObject({ writeZeroes: 2, writeBytes: 2048 });
  });

  it('zeroes a range larger than one pwritev of zeroes (16 MiB)', () => {
    const bench = new BlockBench({ size: 20 * 1024 * 1024 });
    const req = bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(1, 34_000) });
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_OK);
    const file = readFileSync(bench.path);
    expect(file.subarray(0, 512)).toEqual(Buffer.from(pattern(0, 512)));
    expect(file.subarray(512, 34_001 * 512).every((b) => b === 0)).toBe(true);
    expect(file.subarray(34_001 * 512, 34_002 * 512)).toEqual(Buffer.from(pattern(34_001 * 512, 512)));
  });

  it('syncs the zeroes before completing when FLUSH was not accepted', () => {
    const bench = new BlockBench({ acked: (f) => f & ~bit(VIRTIO_BLK_F_FLUSH) });
    const flush = vi.spyOn(bench.disk, 'flush');
    bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, 1) });
    bench.run();
    expect(flush).toHaveBeenCalledTimes(1);
  });

  it('is UNSUPP when the driver did not accept VIRTIO_BLK_F_WRITE_ZEROES', () => {
    const bench = new BlockBench({ acked: (f) => f & ~bit(VIRTIO_BLK_F_WRITE_ZEROES) });
    const req = bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, 1) });
    expect(bench.run().map((u) => u.len)).toEqual([1]);
    expect(req.status()).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(readFileSync(bench.path).subarray(0, 512)).toEqual(Buffer.from(pattern(0, 512)));
  });
});

describe('a read-only disk', () => {
  it('answers a write with IOERR and writes nothing (§5.2.6.2)', () => {
    const bench = new BlockBench({ readOnly: true });
    const before = readFileSync(bench.path);
    const req = bench.request(VIRTIO_BLK_T_OUT, 0, { out: filled(512, 0x55) });
    expect(bench.run().map((u) => u.len)).toEqual([1]);
    expect(req.status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(readFileSync(bench.path)).toEqual(before);
    expect(bench.device.metrics.faults.READ_ONLY).toBe(1);
  });

  it('answers a write-zeroes with IOERR even if the driver claims the feature', () => {
    const bench = new BlockBench({ readOnly: true, acked: (f) => f | bit(VIRTIO_BLK_F_WRITE_ZEROES) });
    const before = readFileSync(bench.path);
    const req = bench.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: segment(0, 1) });
    bench.run();
    expect(req.status()).toBe(VIRTIO_BLK_S_IOERR);
    expect(readFileSync(bench.path)).toEqual(before);
    expect(bench.device.metrics.faults.READ_ONLY).toBe(1);
  });
});
