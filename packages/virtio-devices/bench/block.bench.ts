/**
 * What a virtio-blk request costs the I/O thread, without KVM and without
 * the thread hop (the I/O thread benchmark measures that): the device served
 * on the calling thread against a real image file (in the host's page
 * cache), with Linux-shaped chains re-published on a `MockSplitQueue`.
 * Reads and writes of 4 KiB, 64 per notification (a busy guest's batch),
 * one 128 KiB read (a read-ahead), and a flush (`fdatasync` of the image).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { afterAll, bench, describe } from 'vitest';
import {
  Block,
  DiskImage,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
} from '../src/block/index.js';
import { activation } from '../test/support/activation.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvmm-blk-bench-'));
const path = join(dir, 'disk.img');
writeFileSync(path, new Uint8Array(64 * 1024 * 1024));
const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x400_0000 }]);

function header(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setBigUint64(8, BigInt(sector), true);
  return h;
}

/** A device over its own queue, with `n` chains of `type` laid out once, to be re-published. */
function setup(base: bigint, type: number, bytes: number, n: number) {
  const ring = new MockSplitQueue(mem, 256, { base, dataBase: base + 0x10_0000n });
  const heads = Array.from({ length: n }, (_, i) => {
    const sector = ((i * bytes) / 512) % 65536;
    const data =
      type === VIRTIO_BLK_T_IN
        ? [{ len: bytes, write: true }]
        : type === VIRTIO_BLK_T_OUT
          ? [{ data: new Uint8Array(bytes).fill(i) }]
          : [];
    return ring.addChain([{ data: header(type, sector) }, ...data, { len: 1, write: true }]).head;
  });
  ring.setAvailIdx(0);
  const device = new Block(DiskImage.open(path), { log: () => undefined });
  device.activate(activation(mem, [ring.createQueue()], device.availFeatures));
  return () => {
    for (const h of heads) ring.publish(h);
    device.processQueue(0);
    ring.takeUsed();
  };
}

const read4k = setup(0x10_0000n, VIRTIO_BLK_T_IN, 4096, 64);
const write4k = setup(0x50_0000n, VIRTIO_BLK_T_OUT, 4096, 64);
const read128k = setup(0x90_0000n, VIRTIO_BLK_T_IN, 128 * 1024, 1);
const flush = setup(0xd0_0000n, VIRTIO_BLK_T_FLUSH, 0, 1);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('virtio-blk requests on the calling thread', () => {
  bench('64 reads of 4 KiB (preadv into guest memory)', read4k);
  bench('64 writes of 4 KiB (pwritev from guest memory)', write4k);
  bench('1 read of 128 KiB', read128k);
  bench('1 flush (fdatasync)', flush);
});
