/**
 * The virtio-blk device (virtio 1.2 §5.2) over a raw {@link DiskImage}: one
 * request queue served on the I/O thread, synchronously, straight between
 * the file and guest memory.
 *
 * What it offers, and why:
 * - `blk_size` 512 with VIRTIO_BLK_F_TOPOLOGY saying 4 KiB physical blocks.
 *   The logical block stays 512 bytes so that every image made for ordinary
 *   disks (an MBR or a GPT header at LBA 1, a 512-byte boot sector) reads the
 *   same; the 4 KiB physical block makes guest tools align partitions and
 *   I/O to the host's page and file-system block, so a guest write covers
 *   whole pages of the host's page cache.
 * - VIRTIO_BLK_F_SEG_MAX = queue size − 2 (the header and the status take a
 *   descriptor each); without it Linux sends one data segment per request.
 *   No VIRTIO_BLK_F_SIZE_MAX: a segment of any length is one iovec to
 *   `preadv`/`pwritev`, so there is nothing to limit.
 * - VIRTIO_BLK_F_FLUSH: the image is written through the host's page cache
 *   and a flush is an `fdatasync`. A driver that does not accept FLUSH gets
 *   a writethrough device: each write is synced before it completes (§5.2.6.2).
 * - VIRTIO_BLK_F_WRITE_ZEROES (writable disks): zeroes are written, never a
 *   hole punched (Node has no `fallocate`), so `write_zeroes_may_unmap` is 0.
 *   One segment of at most 32 MiB per request keeps one request from holding
 *   the I/O thread for long.
 * - Not DISCARD: without `fallocate(PUNCH_HOLE)` a discard could only write
 *   zeroes, which would turn every `mkfs` and `fstrim` into a full write of
 *   the disk and make sparse images dense, for no gain to the guest.
 * - VIRTIO_BLK_F_RO for a read-only image: writes and write-zeroes are
 *   answered VIRTIO_BLK_S_IOERR and nothing is written (§5.2.6.2); reads,
 *   flushes and GET_ID work.
 * - VIRTIO_RING_F_EVENT_IDX and VIRTIO_RING_F_INDIRECT_DESC (handled by
 *   `@tsvmm/virtio-queue`), and VIRTIO_F_VERSION_1.
 */
import {
  type Queue,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VirtioQueueError,
  type VirtQueue,
} from '@tsvmm/virtio-queue';
import type { GuestMemory } from '@tsvmm/vm-memory';
import { VIRTIO_F_VERSION_1, VIRTIO_ID_BLOCK } from '../constants.js';
import type { VirtioActivation, VirtioDevice, VirtioDeviceInfo, VirtioInterrupt } from '../device.js';
import { encodeBlockConfig } from './config-space.js';
import {
  SECTOR_SIZE,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_TOPOLOGY,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_WRITE_ZEROES,
} from './constants.js';
import type { DiskImage } from './disk-image.js';
import { type BlockFault, type BlockMetrics, newBlockMetrics } from './metrics.js';
import { type BlockRequestContext, type BlockRequestOutcome, serveRequest } from './request.js';

/** The request queue's default (and largest offered) size. */
export const BLOCK_QUEUE_SIZE = 256;
/** `max_write_zeroes_sectors`: 32 MiB per segment. */
export const BLOCK_MAX_WRITE_ZEROES_SECTORS = 65536;
/** `max_write_zeroes_seg`. */
export const BLOCK_MAX_WRITE_ZEROES_SEG = 1;
/** `physical_block_exp`: 2^3 logical blocks of 512 bytes, a 4 KiB physical block. */
const PHYSICAL_BLOCK_EXP = 3;

const bit = (n: number): bigint => 1n << BigInt(n);

/** What a block device is, before it exists: the same on the main thread and on the I/O thread. */
export interface BlockInfoOptions {
  /** Disk size in 512-byte sectors. */
  readonly capacity: bigint;
  /** Offer VIRTIO_BLK_F_RO. */
  readonly readOnly: boolean;
  /** Request queue size, a power of two in 4..32768; default {@link BLOCK_QUEUE_SIZE}. */
  readonly queueSize?: number;
}

/**
 * The transport's view of a block device: type, queue, features and
 * configuration space.
 * @throws RangeError for a capacity that is not a u64 or a bad queue size.
 */
export function blockDeviceInfo(options: BlockInfoOptions): VirtioDeviceInfo {
  const { capacity, readOnly } = options;
  const queueSize = options.queueSize ?? BLOCK_QUEUE_SIZE;
  if (typeof capacity !== 'bigint' || capacity < 0n || capacity >= 1n << 64n)
    throw new RangeError(`capacity must be a u64 bigint, got ${String(capacity)}`);
  if (
    !Number.isInteger(queueSize) ||
    queueSize < 4 ||
    queueSize > 32768 ||
    (queueSize & (queueSize - 1)) !== 0
  )
    throw new RangeError(`queueSize must be a power of two in 4..32768, got ${queueSize}`);
  let features =
    bit(VIRTIO_F_VERSION_1) |
    bit(VIRTIO_RING_F_EVENT_IDX) |
    bit(VIRTIO_RING_F_INDIRECT_DESC) |
    bit(VIRTIO_BLK_F_SEG_MAX) |
    bit(VIRTIO_BLK_F_BLK_SIZE) |
    bit(VIRTIO_BLK_F_TOPOLOGY) |
    bit(VIRTIO_BLK_F_FLUSH);
  features |= readOnly ? bit(VIRTIO_BLK_F_RO) : bit(VIRTIO_BLK_F_WRITE_ZEROES);
  return {
    deviceType: VIRTIO_ID_BLOCK,
    queueMaxSizes: [queueSize],
    availFeatures: features,
    configSpace: encodeBlockConfig({
      capacity,
      segMax: queueSize - 2,
      blkSize: SECTOR_SIZE,
      physicalBlockExp: PHYSICAL_BLOCK_EXP,
      minIoSize: 1 << PHYSICAL_BLOCK_EXP,
      maxWriteZeroesSectors: readOnly ? 0 : BLOCK_MAX_WRITE_ZEROES_SECTORS,
      maxWriteZeroesSeg: readOnly ? 0 : BLOCK_MAX_WRITE_ZEROES_SEG,
    }),
  };
}

/**
 * The GET_ID reply for `serial`: its ASCII bytes, NUL-padded to 20 (no NUL
 * when it is 20 long).
 * @throws TypeError if `serial` is not a string; RangeError if it is longer
 *   than 20 bytes or has a character outside printable ASCII.
 */
export function blockSerialId(serial: string): Uint8Array {
  if (typeof serial !== 'string') throw new TypeError('serial must be a string');
  if (serial.length > VIRTIO_BLK_ID_BYTES)
    throw new RangeError(`serial ${JSON.stringify(serial)} is longer than ${VIRTIO_BLK_ID_BYTES} bytes`);
  const id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  for (let i = 0; i < serial.length; i++) {
    const c = serial.charCodeAt(i);
    if (c < 0x20 || c > 0x7e)
      throw new RangeError(`serial ${JSON.stringify(serial)} has a character outside printable ASCII`);
    id[i] = c;
  }
  return id;
}

/** Options of a {@link Block} device. */
export interface BlockOptions {
  /** The id the guest reads with GET_ID (`/sys/block/vdX/serial`): printable ASCII, ≤ 20 bytes. Default empty. */
  serial?: string;
  /** Request queue size; default {@link BLOCK_QUEUE_SIZE}. */
  queueSize?: number;
  /** Where the first occurrence of each kind of guest fault is reported; default `console.warn`. */
  log?: (message: string) => void;
}

interface Active {
  readonly queue: VirtQueue;
  readonly memory: GuestMemory;
  readonly interrupt: VirtioInterrupt;
  readonly context: BlockRequestContext;
}

/** A virtio-blk device; see the module comment. */
export class Block implements VirtioDevice {
  readonly deviceType: number;
  readonly queueMaxSizes: readonly number[];
  readonly availFeatures: bigint;
  readonly configSpace: Uint8Array;
  /** The backend. */
  readonly disk: DiskImage;
  /** Counters of requests, bytes and faults. */
  readonly metrics: BlockMetrics = newBlockMetrics();
  readonly #id: Uint8Array;
  readonly #log: (message: string) => void;
  readonly #logged = new Set<BlockFault>();
  #active: Active | undefined;

  /**
   * A device over `disk` (read-only if the disk was opened read-only).
   * @throws TypeError/RangeError for bad options (see {@link blockSerialId}, {@link blockDeviceInfo}).
   */
  constructor(disk: DiskImage, options: BlockOptions = {}) {
    this.#id = blockSerialId(options.serial ?? '');
    const info = blockDeviceInfo({
      capacity: disk.capacity,
      readOnly: disk.readOnly,
      ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
    });
    this.deviceType = info.deviceType;
    this.queueMaxSizes = info.queueMaxSizes;
    this.availFeatures = info.availFeatures;
    this.configSpace = info.configSpace;
    this.disk = disk;
    this.#log = options.log ?? ((m) => console.warn(m));
  }

  /** Whether the driver has set DRIVER_OK and the device serves its queue. */
  get active(): boolean {
    return this.#active !== undefined;
  }

  activate(activation: VirtioActivation): void {
    const queue = activation.queues[0];
    if (queue === undefined) throw new RangeError('a block device needs its request queue');
    const acked = activation.ackedFeatures;
    this.#active = {
      queue,
      memory: activation.memory,
      interrupt: activation.interrupt,
      context: {
        disk: this.disk,
        capacity: this.disk.capacity,
        readOnly: this.disk.readOnly,
        id: this.#id,
        writeThrough: (acked & bit(VIRTIO_BLK_F_FLUSH)) === 0n,
        writeZeroes: (acked & bit(VIRTIO_BLK_F_WRITE_ZEROES)) !== 0n,
        maxWriteZeroesSectors: BLOCK_MAX_WRITE_ZEROES_SECTORS,
        maxWriteZeroesSeg: BLOCK_MAX_WRITE_ZEROES_SEG,
      },
    };
  }

  /**
   * Serves every request available on the queue, then re-enables
   * notifications and serves what arrived meanwhile; raises the interrupt
   * once if the driver wants one. Malformed chains are returned with used
   * length 0 and counted.
   * @throws VirtioQueueError when the ring itself is unusable (a queue not
   *   ready, an available index more than a queue size ahead): the device
   *   cannot go on, and the transport sets NEEDS_RESET.
   */
  processQueue(queueIndex: number): void {
    const active = this.#active;
    if (active === undefined || queueIndex !== 0) return;
    const { queue, memory } = active;
    let used = 0;
    do {
      queue.disableNotification(memory);
      for (;;) {
        const served = this.#serveNext(active);
        if (served === undefined) break;
        used += served;
      }
    } while (queue.enableNotification(memory));
    if (used > 0 && queue.needsNotification(memory)) {
      this.metrics.interrupts++;
      active.interrupt.signalUsedQueue(0);
    }
  }

  /** Pops and serves one chain: 1 if one was returned to the driver, 0 if none could be, undefined if none is left. */
  #serveNext({ queue, memory, context }: Active): number | undefined {
    let chain: ReturnType<Queue['popDescriptorChain']>;
    try {
      chain = queue.popDescriptorChain(memory);
    } catch (err) {
      if (!(err instanceof VirtioQueueError) || err.headIndex === undefined) throw err;
      this.#fault('MALFORMED_CHAIN', `${err.code}: ${err.message}`);
      try {
        queue.addUsed(memory, err.headIndex, 0);
        this.metrics.completed++;
        return 1;
      } catch (addErr) {
        // A head index outside the ring (INVALID_DESCRIPTOR_INDEX) cannot be returned.
        if (addErr instanceof VirtioQueueError && addErr.code === 'INVALID_USED_ID') return 0;
        throw addErr;
      }
    }
    if (chain === undefined) return undefined;
    const outcome = serveRequest(chain, context);
    this.#count(outcome);
    queue.addUsed(memory, chain.headIndex, outcome.used);
    this.metrics.completed++;
    return 1;
  }

  #count(outcome: BlockRequestOutcome): void {
    const m = this.metrics;
    switch (outcome.type) {
      case VIRTIO_BLK_T_IN:
        m.reads++;
        m.readBytes += outcome.bytes;
        break;
      case VIRTIO_BLK_T_OUT:
        m.writes++;
        m.writeBytes += outcome.bytes;
        break;
      case VIRTIO_BLK_T_FLUSH:
        m.flushes++;
        break;
      case VIRTIO_BLK_T_GET_ID:
        m.getIds++;
        break;
      case VIRTIO_BLK_T_WRITE_ZEROES:
        m.writeZeroes++;
        m.writeBytes += outcome.bytes;
        break;
      default:
        if (outcome.type !== undefined) m.unsupported++;
    }
    if (outcome.fault !== undefined) {
      const cause = outcome.cause instanceof Error ? `: ${outcome.cause.message}` : '';
      this.#fault(outcome.fault, `request type ${outcome.type ?? 'none'}${cause}`);
    }
  }

  /** Counts a fault, and reports the first of each kind. */
  #fault(fault: BlockFault, detail: string): void {
    this.metrics.faults[fault]++;
    if (this.#logged.has(fault)) return;
    this.#logged.add(fault);
    this.#log(`virtio-blk ${this.disk.path}: ${fault} (${detail}); further ones are only counted`);
  }

  reset(): void {
    this.#active = undefined;
  }

  /** Closes the disk image. The device must not be activated again. */
  close(): void {
    this.#active = undefined;
    this.disk.close();
  }
}
