/**
 * Memory mappings as ArrayBuffers. A mapping made here is owned by its
 * ArrayBuffer: it is unmapped when the buffer is collected, or at once by
 * {@link munmap}, after which the buffer is detached (length 0) so that no
 * access can reach unmapped memory.
 */
import { check } from './errors.js';
import { native } from './native.js';
import { assertBuffer, assertFd, assertLength, assertU64 } from './validate.js';

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_HUGETLB = 0x40000;
export const MADV_DONTNEED = 4;
export const MADV_DONTFORK = 10;
export const MADV_HUGEPAGE = 14;
export const MFD_CLOEXEC = 1;
export const MFD_ALLOW_SEALING = 2;
export const MFD_HUGETLB = 4;

/** Largest mapping a single ArrayBuffer can describe in this V8 (2^53 - 1 in theory; V8 caps lower). */
export const MAX_MAPPING_LENGTH = 2 ** 47;

export interface MmapOptions {
  /** PROT_* bits; default read and write. */
  prot?: number;
  /** MAP_* bits; default MAP_SHARED, plus MAP_ANONYMOUS when no fd is given. */
  flags?: number;
  /** File descriptor to map; -1 or absent for anonymous memory. */
  fd?: number;
  /** Offset into the file, page-aligned. */
  offset?: number | bigint;
}

/** mmap(2) a new mapping of `length` bytes, returned as an owning ArrayBuffer. */
export function mmap(length: number, options: MmapOptions = {}): ArrayBuffer {
  assertLength(length, 'length');
  if (length > MAX_MAPPING_LENGTH)
    throw new RangeError(`length ${length} is larger than a mapping can be here`);
  const fd = options.fd ?? -1;
  if (fd !== -1) assertFd(fd);
  const prot = options.prot ?? PROT_READ | PROT_WRITE;
  const flags = options.flags ?? (fd === -1 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED);
  const offset = options.offset ?? 0;
  assertU64(offset, 'offset');
  if (BigInt(offset) % BigInt(pageSize()) !== 0n)
    throw new RangeError(`offset ${offset} is not page-aligned`);
  const result = native().mmap(length, prot, flags, fd, offset);
  if (typeof result === 'number') check(result, 'mmap', `${length} bytes`);
  return result as ArrayBuffer;
}

/** Unmaps a buffer made by {@link mmap} now and detaches it. EINVAL for any other buffer, or twice. */
export function munmap(buf: ArrayBuffer): void {
  if (!(buf instanceof ArrayBuffer)) throw new TypeError('buf must be an ArrayBuffer made by mmap');
  check(native().munmap(buf), 'munmap');
}

/** madvise(2) over the whole of a buffer or view. */
export function madvise(buf: ArrayBuffer | ArrayBufferView, advice: number): void {
  assertBuffer(buf, 'buf');
  check(native().madvise(buf, advice), 'madvise');
}

/** The host virtual address of the first byte of a buffer or view (for KVM memory slots). */
export function addressOf(buf: ArrayBuffer | ArrayBufferView): bigint {
  assertBuffer(buf, 'buf');
  return native().addressOf(buf);
}

/**
 * An ArrayBuffer over memory mapped by someone else in this process, e.g. a
 * worker's view of guest RAM the main thread mapped. It never unmaps: the
 * caller guarantees the mapping outlives the view.
 */
export function viewAt(address: bigint, length: number): ArrayBuffer {
  if (typeof address !== 'bigint' || address <= 0n) throw new TypeError('address must be a positive bigint');
  assertLength(length, 'length');
  return native().view(address, length);
}

/** memfd_create(2) with MFD_CLOEXEC always added; returns the fd. */
export function memfdCreate(name: string, flags = 0): number {
  if (typeof name !== 'string' || name.length === 0 || name.length > 249) {
    throw new TypeError('name must be a string of 1 to 249 characters');
  }
  return check(native().memfdCreate(name, flags), 'memfd_create', name);
}

/** ftruncate(2). */
export function ftruncate(fd: number, length: number | bigint): void {
  assertFd(fd);
  assertU64(length, 'length');
  check(native().ftruncate(fd, BigInt(length)), 'ftruncate');
}

let cachedPageSize = 0;
/** The host page size. */
export function pageSize(): number {
  if (cachedPageSize === 0) cachedPageSize = native().pageSize();
  return cachedPageSize;
}
