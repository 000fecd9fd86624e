/**
 * The configuration space and the numbers of the protocol, checked against
 * the kernel's own `<linux/virtio_blk.h>` compiled with the C compiler (not
 * against a second copy of this package's offsets), and the features each
 * kind of disk offers.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '@tsvmm/virtio-queue';
import { describe, expect, it } from 'vitest';
import * as blk from '../../src/block/index.js';
import { VIRTIO_F_VERSION_1, VIRTIO_ID_BLOCK } from '../../src/constants.js';
import { tempDir } from './helpers.js';

const CONFIG_FIELDS = Object.keys(blk.VIRTIO_BLK_CONFIG).filter((f) => f !== 'size');
/** Every constant the kernel header of this machine defines (it predates GET_LIFETIME and LIFETIME). */
const exported: Record<string, unknown> = { ...blk };
const HEADER_CONSTANTS = Object.keys(exported).filter(
  (k) => /^VIRTIO_BLK_([FTS]_|ID_BYTES|WRITE_ZEROES_FLAG)/.test(k) && !k.includes('LIFETIME'),
);

/** What the C compiler says about the kernel's definitions. */
function fromKernelHeader(): Record<string, number> {
  const dir = tempDir();
  const src = join(dir, 'layout.c');
  const lines = [
    ...CONFIG_FIELDS.map((f) => `P("${f}", offsetof(struct virtio_blk_config, ${f}));`),
    'P("size", sizeof(struct virtio_blk_config));',
    'P("outhdr", sizeof(struct virtio_blk_outhdr));',
    'P("segment", sizeof(struct virtio_blk_discard_write_zeroes));',
    ...HEADER_CONSTANTS.map((c) => `P("${c}", ${c});`),
  ];
  writeFileSync(
    src,
    `#include <stddef.h>\n#include <stdio.h>\n#include <linux/virtio_blk.h>\n#include <linux/virtio_ids.h>\n` +
      `#define P(n, v) printf("%s%s %lu", first ? "" : ",", n, (unsigned long)(v)), first = 0\n` +
      `int main(void) { int first = 1; ${lines.join(' ')} P("VIRTIO_ID_BLOCK", VIRTIO_ID_BLOCK); return 0; }\n`,
  );
  execFileSync('cc', ['-o', join(dir, 'layout'), src]);
  const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
  return Object.fromEntries(out.split(',').map((kv) => [kv.split(' ')[0]!, Number(kv.split(' ')[1])]));
}

describe('the protocol matches <linux/virtio_blk.h>', () => {
  const c = fromKernelHeader();

  it('struct virtio_blk_config: every offset, and its size', () => {
    for (const f of CONFIG_FIELDS)
      expect(blk.VIRTIO_BLK_CONFIG[f as keyof typeof blk.VIRTIO_BLK_CONFIG], f).toBe(c[f]);
    expect(blk.VIRTIO_BLK_CONFIG.size).toBe(c.size);
  });

  it('the request header and the write-zeroes segment sizes', () => {
    expect(blk.VIRTIO_BLK_OUTHDR_SIZE).toBe(c.outhdr);
    expect(blk.VIRTIO_BLK_DISCARD_WRITE_ZEROES_SIZE).toBe(c.segment);
  });

  it('every feature bit, request type and status value', () => {
    expect(HEADER_CONSTANTS).toHaveLength(24); // 12 feature bits, 7 request types, 3 statuses, 2 more
    for (const name of HEADER_CONSTANTS) expect(exported[name], name).toBe(c[name]);
    expect(VIRTIO_ID_BLOCK).toBe(c.VIRTIO_ID_BLOCK);
  });
});

const bit = (n: number) => 1n << BigInt(n);
const features = (f: bigint) => Array.from({ length: 64 }, (_, i) => i).filter((i) => (f & bit(i)) !== 0n);

describe('blockDeviceInfo', () => {
  it('a writable disk: capacity, seg_max, blk_size 512, 4 KiB physical blocks, write-zeroes limits', () => {
    const info = blk.blockDeviceInfo({ capacity: 0x1_2345_6789n, readOnly: false });
    expect(info.deviceType).toBe(VIRTIO_ID_BLOCK);
    expect(info.queueMaxSizes).toEqual([256]);
    expect(features(info.availFeatures)).toEqual(
      [
        blk.VIRTIO_BLK_F_SEG_MAX,
        blk.VIRTIO_BLK_F_BLK_SIZE,
        blk.VIRTIO_BLK_F_FLUSH,
        blk.VIRTIO_BLK_F_TOPOLOGY,
        blk.VIRTIO_BLK_F_WRITE_ZEROES,
        VIRTIO_RING_F_INDIRECT_DESC,
        VIRTIO_RING_F_EVENT_IDX,
        VIRTIO_F_VERSION_1,
      ].sort((a, b) => a - b),
    );
    const v = new DataView(info.configSpace.buffer);
    const at = blk.VIRTIO_BLK_CONFIG;
    expect(info.configSpace.length).toBe(at.size);
    expect(v.getBigUint64(at.capacity, true)).toBe(0x1_2345_6789n);
    expect(v.getUint32(at.seg_max, true)).toBe(254);
    expect(v.getUint32(at.blk_size, true)).toBe(512);
    expect(v.getUint8(at.physical_block_exp)).toBe(3);
    expect(v.getUint16(at.min_io_size, true)).toBe(8);
    expect(v.getUint32(at.max_write_zeroes_sectors, true)).toBe(blk.BLOCK_MAX_WRITE_ZEROES_SECTORS);
    expect(v.getUint32(at.max_write_zeroes_seg, true)).toBe(1);
    expect(v.getUint8(at.write_zeroes_may_unmap)).toBe(0);
    // Everything else, padding included, is zero.
    const known = new Set<number>();
    const mark = (o: number, n: number) => {
      for (let i = 0; i < n; i++) known.add(o + i);
    };
    mark(at.capacity, 8);
    mark(at.seg_max, 4);
    mark(at.blk_size, 4);
    mark(at.physical_block_exp, 1);
    mark(at.min_io_size, 2);
    mark(at.max_write_zeroes_sectors, 4);
    mark(at.max_write_zeroes_seg, 4);
    info.configSpace.forEach((b, i) => {
      if (!known.has(i)) expect(b, `byte ${i}`).toBe(0);
    });
  });

  it('a read-only disk offers VIRTIO_BLK_F_RO and not WRITE_ZEROES', () => {
    const info = blk.blockDeviceInfo({ capacity: 8n, readOnly: true, queueSize: 64 });
    expect(info.availFeatures & bit(blk.VIRTIO_BLK_F_RO)).not.toBe(0n);
    expect(info.availFeatures & bit(blk.VIRTIO_BLK_F_WRITE_ZEROES)).toBe(0n);
    expect(info.queueMaxSizes).toEqual([64]);
    const v = new DataView(info.configSpace.buffer);
    expect(v.getUint32(blk.VIRTIO_BLK_CONFIG.seg_max, true)).toBe(62);
    expect(v.getUint32(blk.VIRTIO_BLK_CONFIG.max_write_zeroes_sectors, true)).toBe(0);
  });

  it('rejects a capacity that is not a u64 and a queue size that is not a power of two in 4..32768', () => {
    expect(() => blk.blockDeviceInfo({ capacity: -1n, readOnly: false })).toThrow(RangeError);
    expect(() => blk.blockDeviceInfo({ capacity: 1n << 64n, readOnly: false })).toThrow(RangeError);
    expect(() => blk.blockDeviceInfo({ capacity: 8 as unknown as bigint, readOnly: false })).toThrow(
      RangeError,
    );
    for (const queueSize of [0, 2, 100, 65536, 2.5])
      expect(() => blk.blockDeviceInfo({ capacity: 8n, readOnly: false, queueSize })).toThrow(RangeError);
  });

  it('capacityOf: whole sectors only', () => {
    expect(blk.capacityOf(0)).toBe(0n);
    expect(blk.capacityOf(511)).toBe(0n);
    expect(blk.capacityOf(1025)).toBe(2n);
    expect(blk.capacityOf(2 ** 40)).toBe(2n ** 31n);
  });
});

describe('blockSerialId', () => {
  it('pads with NULs; 20 characters fill it', () => {
    expect(Buffer.from(blk.blockSerialId('ab')).toString('latin1')).toBe(`ab${'\0'.repeat(18)}`);
    expect(Buffer.from(blk.blockSerialId('x'.repeat(20))).toString('latin1')).toBe('x'.repeat(20));
  });

  it('rejects a non-string (TypeError), more than 20 bytes and non-printable or non-ASCII characters (RangeError)', () => {
    expect(() => blk.blockSerialId(3 as unknown as string)).toThrow(TypeError);
    expect(() => blk.blockSerialId('x'.repeat(21))).toThrow(RangeError);
    expect(() => blk.blockSerialId('a\0b')).toThrow(RangeError);
    expect(() => blk.blockSerialId('disk-é')).toThrow(RangeError);
  });
});
