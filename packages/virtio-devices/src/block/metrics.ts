/** What a block device counts: requests by type, bytes moved, and every fault by name. */
import type { BlockRequestFault } from './request.js';

/**
 * Why a chain or request failed, as counted: a {@link BlockRequestFault}, or
 * `MALFORMED_CHAIN` for a chain the queue rejected when it was popped (it is
 * returned with used length 0).
 */
export type BlockFault = BlockRequestFault | 'MALFORMED_CHAIN';

/** A block device's counters since it was created (resets of the device do not clear them). */
export interface BlockMetrics {
  /** VIRTIO_BLK_T_IN requests served, successful or not. */
  reads: number;
  /** VIRTIO_BLK_T_OUT requests. */
  writes: number;
  /** VIRTIO_BLK_T_FLUSH requests. */
  flushes: number;
  /** VIRTIO_BLK_T_GET_ID requests. */
  getIds: number;
  /** VIRTIO_BLK_T_WRITE_ZEROES requests. */
  writeZeroes: number;
  /** Requests of any other type (answered UNSUPP). */
  unsupported: number;
  /** Bytes read from the disk into the guest. */
  readBytes: number;
  /** Bytes written (or zeroed) on the disk. */
  writeBytes: number;
  /** Chains returned to the driver. */
  completed: number;
  /** Interrupts raised. */
  interrupts: number;
  /** Each fault, by name. */
  faults: Record<BlockFault, number>;
}

/** Fresh counters, all zero. */
export function newBlockMetrics(): BlockMetrics {
  return {
    reads: 0,
    writes: 0,
    flushes: 0,
    getIds: 0,
    writeZeroes: 0,
    unsupported: 0,
    readBytes: 0,
    writeBytes: 0,
    completed: 0,
    interrupts: 0,
    faults: {
      HEADER_TOO_SHORT: 0,
      WRONG_DIRECTION: 0,
      UNALIGNED_LENGTH: 0,
      OUT_OF_RANGE: 0,
      READ_ONLY: 0,
      BAD_ID_LENGTH: 0,
      BAD_SEGMENTS: 0,
      IO_ERROR: 0,
      UNSUPPORTED: 0,
      UNKNOWN_FLAGS: 0,
      NO_STATUS: 0,
      MALFORMED_CHAIN: 0,
    },
  };
}
