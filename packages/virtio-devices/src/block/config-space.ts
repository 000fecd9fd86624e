/**
 * The virtio-blk configuration space, `struct virtio_blk_config` (virtio 1.2
 * §5.2.4), as bytes the transport shows the driver: little-endian, padding
 * zero, and the fields of features that are not offered zero too.
 */
import { SECTOR_SIZE } from './constants.js';

/**
 * Byte offsets of `struct virtio_blk_config` (without the zoned
 * characteristics, which only a zoned device has). A test checks each one
 * against `offsetof` from the kernel's `<linux/virtio_blk.h>`.
 */
export const VIRTIO_BLK_CONFIG = {
  capacity: 0,
  size_max: 8,
  seg_max: 12,
  geometry: 16,
  blk_size: 20,
  physical_block_exp: 24,
  alignment_offset: 25,
  min_io_size: 26,
  opt_io_size: 28,
  wce: 32,
  num_queues: 34,
  max_discard_sectors: 36,
  max_discard_seg: 40,
  discard_sector_alignment: 44,
  max_write_zeroes_sectors: 48,
  max_write_zeroes_seg: 52,
  write_zeroes_may_unmap: 56,
  max_secure_erase_sectors: 60,
  max_secure_erase_seg: 64,
  secure_erase_sector_alignment: 68,
  /** `sizeof(struct virtio_blk_config)` up to and including the secure-erase fields. */
  size: 72,
} as const;

/** What the block device puts in its configuration space. */
export interface BlockConfigFields {
  /** Disk size in 512-byte sectors. */
  readonly capacity: bigint;
  /** Most data segments in one request (VIRTIO_BLK_F_SEG_MAX). */
  readonly segMax: number;
  /** Logical block size in bytes (VIRTIO_BLK_F_BLK_SIZE). */
  readonly blkSize: number;
  /** log2 of logical blocks per physical block (VIRTIO_BLK_F_TOPOLOGY). */
  readonly physicalBlockExp: number;
  /** Suggested minimum I/O size, in logical blocks (VIRTIO_BLK_F_TOPOLOGY). */
  readonly minIoSize: number;
  /** Largest write-zeroes segment in sectors, or 0 without VIRTIO_BLK_F_WRITE_ZEROES. */
  readonly maxWriteZeroesSectors: number;
  /** Most segments in one write-zeroes request, or 0 without VIRTIO_BLK_F_WRITE_ZEROES. */
  readonly maxWriteZeroesSeg: number;
}

/** Encodes the configuration space: {@link VIRTIO_BLK_CONFIG.size} bytes. */
export function encodeBlockConfig(fields: BlockConfigFields): Uint8Array {
  const bytes = new Uint8Array(VIRTIO_BLK_CONFIG.size);
  const view = new DataView(bytes.buffer);
  const at = VIRTIO_BLK_CONFIG;
  view.setBigUint64(at.capacity, fields.capacity, true);
  view.setUint32(at.seg_max, fields.segMax, true);
  view.setUint32(at.blk_size, fields.blkSize, true);
  view.setUint8(at.physical_block_exp, fields.physicalBlockExp);
  view.setUint16(at.min_io_size, fields.minIoSize, true);
  view.setUint32(at.max_write_zeroes_sectors, fields.maxWriteZeroesSectors, true);
  view.setUint32(at.max_write_zeroes_seg, fields.maxWriteZeroesSeg, true);
  // write_zeroes_may_unmap stays 0: a write-zeroes request writes zeroes and never deallocates (§5.2.6.2).
  return bytes;
}

/** Capacity in sectors of a disk of `bytes` bytes: a trailing partial sector cannot be addressed. */
export function capacityOf(bytes: number): bigint {
  return BigInt(Math.floor(bytes / SECTOR_SIZE));
}
