/**
 * One virtio-blk request (virtio 1.2 §5.2.6): a popped descriptor chain is
 * parsed, checked and carried out against the disk image, and its status
 * byte written. Everything in the chain is the guest's and may be hostile;
 * nothing here throws for it. A request the guest got wrong is answered
 * with VIRTIO_BLK_S_IOERR (driver error) or VIRTIO_BLK_S_UNSUPP, named by a
 * {@link BlockRequestFault} so the device can count it.
 *
 * The chain's layout as the device reads it: the device-readable bytes are
 * the 16-byte header then, for writes, the data; the device-writable bytes
 * are, for reads, the data, and always end with the one status byte. Each
 * request type has one data direction; bytes in the other direction are a
 * driver error, as is a chain whose readable part is shorter than a header.
 * A chain without a writable byte has nowhere to put a status: it is
 * returned untouched, with used length 0.
 */
import type { DescriptorChain, Reader, Writer } from '@tsvmm/virtio-queue';
import {
  SECTOR_SIZE,
  VIRTIO_BLK_DISCARD_WRITE_ZEROES_SIZE,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_OUTHDR_SIZE,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
} from './constants.js';
import type { DiskImage } from './disk-image.js';

/**
 * Why a request was not carried out as asked.
 *
 * Answered with VIRTIO_BLK_S_IOERR (the driver broke a rule, or the host failed):
 * - `HEADER_TOO_SHORT`: fewer than 16 device-readable bytes.
 * - `WRONG_DIRECTION`: data in the direction the request type does not use.
 * - `UNALIGNED_LENGTH`: read or write data that is not a whole number of 512-byte sectors.
 * - `OUT_OF_RANGE`: sectors beyond the disk's capacity (or a range that overflows).
 * - `READ_ONLY`: a write or write-zeroes to a read-only disk (nothing is written).
 * - `BAD_ID_LENGTH`: a GET_ID whose data is not 20 bytes.
 * - `BAD_SEGMENTS`: write-zeroes data that is not 1..max segments of 16 bytes, or a
 *   segment longer than `max_write_zeroes_sectors`.
 * - `IO_ERROR`: the host's `preadv`/`pwritev`/`fdatasync` failed or the image shrank.
 *
 * Answered with VIRTIO_BLK_S_UNSUPP:
 * - `UNSUPPORTED`: a request type the device does not serve (or whose feature was not negotiated).
 * - `UNKNOWN_FLAGS`: a write-zeroes segment with flags other than `unmap`.
 *
 * Not answered (used length 0):
 * - `NO_STATUS`: the chain has no device-writable byte for the status.
 */
export type BlockRequestFault =
  | 'HEADER_TOO_SHORT'
  | 'WRONG_DIRECTION'
  | 'UNALIGNED_LENGTH'
  | 'OUT_OF_RANGE'
  | 'READ_ONLY'
  | 'BAD_ID_LENGTH'
  | 'BAD_SEGMENTS'
  | 'IO_ERROR'
  | 'UNSUPPORTED'
  | 'UNKNOWN_FLAGS'
  | 'NO_STATUS';

/** What the request handler needs to know about its disk and the negotiation. */
export interface BlockRequestContext {
  readonly disk: DiskImage;
  /** The disk's size in sectors (what the configuration space says). */
  readonly capacity: bigint;
  /** Writes are refused (VIRTIO_BLK_F_RO was offered). */
  readonly readOnly: boolean;
  /** The GET_ID reply: exactly 20 bytes, NUL-padded. */
  readonly id: Uint8Array;
  /** VIRTIO_BLK_F_FLUSH was not negotiated: writes are made stable before they complete. */
  readonly writeThrough: boolean;
  /** VIRTIO_BLK_F_WRITE_ZEROES was negotiated. */
  readonly writeZeroes: boolean;
  /** Largest write-zeroes segment, in sectors. */
  readonly maxWriteZeroesSectors: number;
  /** Most segments in one write-zeroes request. */
  readonly maxWriteZeroesSeg: number;
}

/** How a request ended. */
export interface BlockRequestOutcome {
  /** The request type from the header, or undefined if there was no header. */
  readonly type: number | undefined;
  /** The status byte written, or undefined if the chain had no room for it. */
  readonly status: number | undefined;
  /** Bytes written into the chain (data and status): the used length. */
  readonly used: number;
  /** Data bytes moved between disk and guest. */
  readonly bytes: number;
  /** Why the request failed, if it did. */
  readonly fault?: BlockRequestFault;
  /** The host error behind an `IO_ERROR`. */
  readonly cause?: unknown;
}

/** A request's status was decided before any data moved: write it at the chain's last byte. */
function reject(
  writer: Writer,
  type: number | undefined,
  fault: BlockRequestFault,
  cause?: unknown,
): BlockRequestOutcome {
  const status =
    fault === 'UNSUPPORTED' || fault === 'UNKNOWN_FLAGS' ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
  writer.skip(writer.availableBytes - 1);
  writer.writeU8(status);
  return cause === undefined
    ? { type, status, used: 1, bytes: 0, fault }
    : { type, status, used: 1, bytes: 0, fault, cause };
}

/**
 * Checks that `length` bytes of data from `sector` are whole sectors inside
 * the disk; returns the byte offset, or the fault.
 */
function dataRange(sector: bigint, length: number, capacity: bigint): number | BlockRequestFault {
  if (length % SECTOR_SIZE !== 0) return 'UNALIGNED_LENGTH';
  // sector is a guest u64: compare in bigint, so that no sum wraps or rounds.
  if (sector + BigInt(length / SECTOR_SIZE) > capacity) return 'OUT_OF_RANGE';
  return Number(sector) * SECTOR_SIZE;
}

/**
 * Serves one request chain and writes its status. Returns how it ended;
 * the caller returns the chain with `used` as its used length.
 *
 * Throws only if the device itself fails (guest memory closed under it, a
 * bug): never for anything in the chain.
 */
export function serveRequest(chain: DescriptorChain, ctx: BlockRequestContext): BlockRequestOutcome {
  const writer = chain.writer();
  if (writer.availableBytes === 0)
    return { type: undefined, status: undefined, used: 0, bytes: 0, fault: 'NO_STATUS' };
  const reader = chain.reader();
  if (reader.availableBytes < VIRTIO_BLK_OUTHDR_SIZE) return reject(writer, undefined, 'HEADER_TOO_SHORT');
  const type = reader.readU32();
  reader.readU32(); // reserved (formerly ioprio)
  const sector = reader.readU64();
  const dataOut = reader.availableBytes; // device-readable data after the header
  const dataIn = writer.availableBytes - 1; // device-writable data before the status byte

  switch (type) {
    case VIRTIO_BLK_T_IN:
      if (dataOut !== 0) return reject(writer, type, 'WRONG_DIRECTION');
      return read(writer, sector, dataIn, ctx);
    case VIRTIO_BLK_T_OUT:
      if (dataIn !== 0) return reject(writer, type, 'WRONG_DIRECTION');
      if (ctx.readOnly) return reject(writer, type, 'READ_ONLY');
      return write(reader, writer, sector, dataOut, ctx);
    case VIRTIO_BLK_T_FLUSH:
      // §5.2.6.1: the driver sets sector to 0 and sends no data; a non-zero sector is harmless.
      if (dataIn !== 0 || dataOut !== 0) return reject(writer, type, 'WRONG_DIRECTION');
      return complete(writer, type, 0, () => ctx.disk.flush());
    case VIRTIO_BLK_T_GET_ID:
      if (dataOut !== 0) return reject(writer, type, 'WRONG_DIRECTION');
      if (dataIn !== VIRTIO_BLK_ID_BYTES) return reject(writer, type, 'BAD_ID_LENGTH');
      writer.writeExact(ctx.id);
      writer.writeU8(VIRTIO_BLK_S_OK);
      return { type, status: VIRTIO_BLK_S_OK, used: VIRTIO_BLK_ID_BYTES + 1, bytes: 0 };
    case VIRTIO_BLK_T_WRITE_ZEROES:
      if (!ctx.writeZeroes) return reject(writer, type, 'UNSUPPORTED');
      if (dataIn !== 0) return reject(writer, type, 'WRONG_DIRECTION');
      return writeZeroes(reader, writer, dataOut, ctx);
    default:
      // DISCARD, SECURE_ERASE and GET_LIFETIME are not offered; legacy SCSI and zoned types, and any
      // other value, are unknown (§5.2.6.2: UNSUPP).
      return reject(writer, type, 'UNSUPPORTED');
  }
}

/** Runs `io` (which moves `bytes`) and writes OK, or IOERR if it throws. */
function complete(writer: Writer, type: number, bytes: number, io: () => void): BlockRequestOutcome {
  try {
    io();
  } catch (cause) {
    return reject(writer, type, 'IO_ERROR', cause);
  }
  writer.writeU8(VIRTIO_BLK_S_OK);
  return { type, status: VIRTIO_BLK_S_OK, used: 1, bytes };
}

function read(writer: Writer, sector: bigint, length: number, ctx: BlockRequestContext): BlockRequestOutcome {
  const type = VIRTIO_BLK_T_IN;
  const offset = dataRange(sector, length, ctx.capacity);
  if (typeof offset !== 'number') return reject(writer, type, offset);
  // Zero-copy: the file is read straight into the guest's buffers (marked dirty as they are handed out).
  const views = writer.slices(length);
  let n: number;
  try {
    n = ctx.disk.readAt(views, offset);
  } catch (cause) {
    writer.writeU8(VIRTIO_BLK_S_IOERR);
    return { type, status: VIRTIO_BLK_S_IOERR, used: 1, bytes: 0, fault: 'IO_ERROR', cause };
  }
  const status = n === length ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
  writer.writeU8(status);
  // The used length counts what was really written: the bytes read, then the status.
  return status === VIRTIO_BLK_S_OK
    ? { type, status, used: n + 1, bytes: n }
    : { type, status, used: n + 1, bytes: n, fault: 'IO_ERROR' };
}

function write(
  reader: Reader,
  writer: Writer,
  sector: bigint,
  length: number,
  ctx: BlockRequestContext,
): BlockRequestOutcome {
  const type = VIRTIO_BLK_T_OUT;
  const offset = dataRange(sector, length, ctx.capacity);
  if (typeof offset !== 'number') return reject(writer, type, offset);
  const views = reader.slices(length);
  return complete(writer, type, length, () => {
    if (ctx.disk.writeAt(views, offset) !== length) throw new Error('the image ended before the write did');
    if (ctx.writeThrough) ctx.disk.flush();
  });
}

function writeZeroes(
  reader: Reader,
  writer: Writer,
  length: number,
  ctx: BlockRequestContext,
): BlockRequestOutcome {
  const type = VIRTIO_BLK_T_WRITE_ZEROES;
  const count = length / VIRTIO_BLK_DISCARD_WRITE_ZEROES_SIZE;
  if (!Number.isInteger(count) || count < 1 || count > ctx.maxWriteZeroesSeg)
    return reject(writer, type, 'BAD_SEGMENTS');
  // Every segment is read and checked before any is written: a bad one leaves the disk untouched.
  const ranges: Array<[offset: number, length: number]> = [];
  let unknownFlags = false;
  for (let i = 0; i < count; i++) {
    const sector = reader.readU64();
    const sectors = reader.readU32();
    const flags = reader.readU32();
    if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0) unknownFlags = true;
    if (sectors > ctx.maxWriteZeroesSectors) return reject(writer, type, 'BAD_SEGMENTS');
    const offset = dataRange(sector, sectors * SECTOR_SIZE, ctx.capacity);
    if (typeof offset !== 'number') return reject(writer, type, offset);
    ranges.push([offset, sectors * SECTOR_SIZE]);
  }
  // §5.2.6.2: unknown flags are UNSUPP; that outranks the driver's other mistakes only once the
  // segments are well-formed, so a malformed request is always IOERR.
  if (unknownFlags) return reject(writer, type, 'UNKNOWN_FLAGS');
  if (ctx.readOnly) return reject(writer, type, 'READ_ONLY');
  let bytes = 0;
  for (const [, n] of ranges) bytes += n;
  return complete(writer, type, bytes, () => {
    for (const [offset, n] of ranges) ctx.disk.writeZeroesAt(offset, n);
    if (ctx.writeThrough) ctx.disk.flush();
  });
}
