/**
 * The virtio-blk backend: a raw image file, read and written with
 * synchronous positioned vector I/O (`preadv`/`pwritev` through Node's
 * `readvSync`/`writevSync`) straight into and out of guest memory views, and
 * made stable with `fdatasync`. It runs on the I/O thread, where blocking is
 * the point: the guest's request waits for the disk, nothing else does.
 *
 * The file is opened once (on any thread); its descriptor is process-wide, so
 * {@link DiskImage.toDescriptor} and {@link DiskImage.fromDescriptor} carry it
 * to the I/O worker.
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readvSync, writevSync } from 'node:fs';
import { close as closeFd, SysError } from '@tsvmm/vmm-sys-util';
import { VirtioDevicesError } from '../errors.js';
import { capacityOf } from './config-space.js';

/** How to open a {@link DiskImage}. */
export interface DiskImageOptions {
  /** Open the file read-only (the device then refuses writes). Default false. */
  readOnly?: boolean;
}

/** The structured-clonable form of an open {@link DiskImage}, for another thread of the same process. */
export interface DiskImageDescriptor {
  /** The open file descriptor. */
  readonly fd: number;
  /** Whether it was opened read-only. */
  readonly readOnly: boolean;
  /** The file's size in bytes when it was opened. */
  readonly size: number;
  /** The path it was opened from (for messages). */
  readonly path: string;
}

/** One zero-filled buffer that every write-zeroes request reuses. */
const ZEROES = new Uint8Array(64 * 1024);
/** Vectors per `pwritev` of zeroes: Linux's IOV_MAX is 1024; 256 × 64 KiB = 16 MiB a call. */
const ZERO_VECTORS = 256;

/**
 * A failed `fs` call as this package's error: `code` says what failed, and
 * the cause is a vmm-sys-util {@link SysError} (positive errno, code,
 * syscall) made from Node's error, which it keeps as its own cause.
 */
function backendError(
  code: 'BACKEND_OPEN' | 'BACKEND_IO',
  err: unknown,
  syscall: string,
  path: string,
): VirtioDevicesError {
  const e = err as NodeJS.ErrnoException;
  const sys =
    err instanceof SysError || !(err instanceof Error) || typeof e.errno !== 'number'
      ? err
      : new SysError(Math.abs(e.errno), e.syscall ?? syscall, undefined, { cause: err });
  const what = code === 'BACKEND_OPEN' ? `cannot open disk image ${path}` : `disk image ${path}`;
  return new VirtioDevicesError(code, `${what}: ${(sys as Error)?.message ?? String(sys)}`, { cause: sys });
}

/** `views` without their first `n` bytes (a short transfer's remainder). */
function dropFront(views: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const v of views) {
    if (skip >= v.length) {
      skip -= v.length;
      continue;
    }
    out.push(skip > 0 ? v.subarray(skip) : v);
    skip = 0;
  }
  return out;
}

function checkOffset(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`offset and length must be non-negative safe integers, got ${offset}, ${length}`);
  if (offset + length > size)
    throw new RangeError(`bytes ${offset}..${offset + length} are beyond the image's ${size} bytes`);
}

function totalLength(views: readonly Uint8Array[]): number {
  let n = 0;
  for (const v of views) n += v.length;
  return n;
}

/** A raw disk image file; see the module comment. */
export class DiskImage {
  /** The open file descriptor (closed by {@link close}). */
  readonly fd: number;
  /** Whether the file was opened read-only. */
  readonly readOnly: boolean;
  /** The file's size in bytes when it was opened; the disk never grows or shrinks. */
  readonly size: number;
  /** The path it was opened from. */
  readonly path: string;
  #closed = false;

  private constructor(fd: number, readOnly: boolean, size: number, path: string) {
    this.fd = fd;
    this.readOnly = readOnly;
    this.size = size;
    this.path = path;
  }

  /**
   * Opens a raw image: read-write, or read-only with `readOnly`. The file must
   * be a regular file; its size (a trailing partial sector is not addressable)
   * is the disk's size.
   * @throws TypeError for a bad argument; VirtioDevicesError `BACKEND_OPEN`
   *   when `open` or `fstat` fails (its cause a SysError: ENOENT, EACCES,
   *   EROFS, EISDIR…) or the path is not a regular file (a SysError EINVAL).
   */
  static open(path: string, options: DiskImageOptions = {}): DiskImage {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    const readOnly = options.readOnly ?? false;
    if (typeof readOnly !== 'boolean') throw new TypeError('readOnly must be a boolean');
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (err) {
      throw backendError('BACKEND_OPEN', err, 'open', path);
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new SysError(22, 'open', 'not a regular file');
      return new DiskImage(fd, readOnly, stat.size, path);
    } catch (err) {
      closeSync(fd);
      throw backendError('BACKEND_OPEN', err, 'fstat', path);
    }
  }

  /**
   * A `DiskImage` over a descriptor another thread opened ({@link toDescriptor}).
   * Closing either closes the one file descriptor both share.
   * @throws TypeError if `d` is not a descriptor.
   */
  static fromDescriptor(d: DiskImageDescriptor): DiskImage {
    if (
      typeof d !== 'object' ||
      d === null ||
      !Number.isInteger(d.fd) ||
      d.fd < 0 ||
      typeof d.readOnly !== 'boolean' ||
      !Number.isSafeInteger(d.size) ||
      d.size < 0 ||
      typeof d.path !== 'string'
    )
      throw new TypeError('not a DiskImageDescriptor');
    return new DiskImage(d.fd, d.readOnly, d.size, d.path);
  }

  /** What {@link fromDescriptor} takes on another thread. */
  toDescriptor(): DiskImageDescriptor {
    return { fd: this.fd, readOnly: this.readOnly, size: this.size, path: this.path };
  }

  /** The disk's size in 512-byte sectors. */
  get capacity(): bigint {
    return capacityOf(this.size);
  }

  /**
   * Fills `views` from the file at byte `offset` (`preadv`, repeated after
   * short reads). Returns the bytes read: less than asked only if the file
   * shrank behind the VMM's back.
   * @throws RangeError if the range is not inside the image; VirtioDevicesError
   *   `BACKEND_IO` when `preadv` fails (its cause the SysError).
   */
  readAt(views: readonly Uint8Array[], offset: number): number {
    return this.#transfer(views, offset, false);
  }

  /**
   * Writes `views` to the file at byte `offset` (`pwritev`, repeated after short writes).
   * @throws RangeError if the range is not inside the image; VirtioDevicesError
   *   `BACKEND_IO` when `pwritev` fails, or on a read-only image (a SysError
   *   EBADF, what `pwritev` on its descriptor would give).
   */
  writeAt(views: readonly Uint8Array[], offset: number): number {
    this.#checkWritable();
    return this.#transfer(views, offset, true);
  }

  /**
   * Writes `length` zero bytes at `offset`. Node has no `fallocate`, so this
   * writes zeroes (16 MiB per `pwritev`) rather than punching a hole.
   * @throws as {@link writeAt}.
   */
  writeZeroesAt(offset: number, length: number): void {
    this.#checkWritable();
    checkOffset(offset, length, this.size);
    let done = 0;
    while (done < length) {
      const step = Math.min(length - done, ZEROES.length * ZERO_VECTORS);
      const views: Uint8Array[] = [];
      for (let left = step; left > 0; left -= ZEROES.length)
        views.push(ZEROES.subarray(0, Math.min(left, ZEROES.length)));
      this.#transfer(views, offset + done, true);
      done += step;
    }
  }

  /**
   * Makes every completed write stable (`fdatasync`).
   * @throws VirtioDevicesError `BACKEND_IO` when it fails (EIO: the data may be lost).
   */
  flush(): void {
    try {
      fdatasyncSync(this.fd);
    } catch (err) {
      throw backendError('BACKEND_IO', err, 'fdatasync', this.path);
    }
  }

  /**
   * Closes the file descriptor (once; later calls do nothing). A plain
   * close(2): the image is usually opened on the main thread and closed on
   * the I/O thread, and Node's fs.closeSync warns about descriptors a worker
   * did not open itself.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }

  #checkWritable(): void {
    if (this.readOnly)
      throw backendError(
        'BACKEND_IO',
        new SysError(9, 'pwritev', 'the image is open read-only'),
        'pwritev',
        this.path,
      );
  }

  #transfer(views: readonly Uint8Array[], offset: number, write: boolean): number {
    const length = totalLength(views);
    checkOffset(offset, length, this.size);
    let done = 0;
    let rest: readonly Uint8Array[] = views.filter((v) => v.length > 0);
    while (done < length) {
      let n: number;
      try {
        n = write
          ? writevSync(this.fd, rest as Uint8Array[], offset + done)
          : readvSync(this.fd, rest as Uint8Array[], offset + done);
      } catch (err) {
        throw backendError('BACKEND_IO', err, write ? 'pwritev' : 'preadv', this.path);
      }
      if (n === 0) break; // end of file: the file shrank
      done += n;
      if (done < length) rest = dropFront(rest, n);
    }
    return done;
  }
}
