/**
 * Where a kernel or initrd image comes from: bytes already in memory, an open
 * file descriptor, or a path. Images given as a file are read straight into
 * guest memory (through zero-copy views of it), so a 100 MB initrd is never
 * held in a second buffer.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LinuxLoaderError } from './errors.js';

/** An image: its bytes, an open file descriptor (read with `pread`, never moved), or a file path. */
export type ImageInput = Uint8Array | number | string;

/** Largest single read(2) Node allows. */
const MAX_READ = 0x4000_0000;

/** Random access to an image's bytes. */
export interface ImageSource {
  /** Size of the image in bytes. */
  readonly size: number;
  /**
   * Fills all of `into` with the image bytes at `position`.
   * @throws LinuxLoaderError `IMAGE_READ_FAILED` if the image ends first.
   */
  read(into: Uint8Array, position: number): void;
  /** The bytes at `[position, position + length)` in a new buffer (for headers). */
  bytes(position: number, length: number): Uint8Array;
}

class BytesSource implements ImageSource {
  readonly #data: Uint8Array;
  readonly size: number;

  constructor(data: Uint8Array) {
    this.#data = data;
    this.size = data.byteLength;
  }

  read(into: Uint8Array, position: number): void {
    if (position + into.byteLength > this.size) throw shortRead(position, into.byteLength, this.size);
    into.set(this.#data.subarray(position, position + into.byteLength));
  }

  bytes(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.read(out, position);
    return out;
  }
}

class FdSource implements ImageSource {
  readonly #fd: number;
  readonly size: number;

  constructor(fd: number) {
    this.#fd = fd;
    this.size = fstatSync(fd).size;
  }

  read(into: Uint8Array, position: number): void {
    let done = 0;
    while (done < into.byteLength) {
      const length = Math.min(into.byteLength - done, MAX_READ);
      const n = readSync(this.#fd, into, done, length, position + done);
      if (n === 0) throw shortRead(position, into.byteLength, position + done);
      done += n;
    }
  }

  bytes(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.read(out, position);
    return out;
  }
}

function shortRead(position: number, length: number, end: number): LinuxLoaderError {
  return new LinuxLoaderError(
    'IMAGE_READ_FAILED',
    `the image ended at byte ${end} while reading ${length} bytes at ${position} (was it changed while loading?)`,
  );
}

/** A source over bytes in memory. */
export function bytesSource(data: Uint8Array): ImageSource {
  return new BytesSource(data);
}

/** A source over an open file; its size is taken now (`fstat`). */
export function fdSource(fd: number): ImageSource {
  return new FdSource(fd);
}

/**
 * Runs `use` with a source for `input`, opening (and afterwards closing) a
 * file when `input` is a path. File system errors are Node's own (`ENOENT`, ...).
 */
export function withImageSource<T>(input: ImageInput, what: string, use: (source: ImageSource) => T): T {
  if (input instanceof Uint8Array) return use(bytesSource(input));
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0)
      throw new TypeError(`${what} fd must be a non-negative integer`);
    return use(fdSource(input));
  }
  if (typeof input === 'string') {
    const fd = openSync(input, 'r');
    try {
      return use(fdSource(fd));
    } finally {
      closeSync(fd);
    }
  }
  throw new TypeError(`${what} must be a Uint8Array, a file descriptor or a path`);
}
