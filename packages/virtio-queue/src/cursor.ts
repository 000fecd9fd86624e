/**
 * `Reader` and `Writer`: byte streams over the device-readable and the
 * device-writable buffers of a descriptor chain (rust-vmm's `Reader` and
 * `Writer`). Every buffer was checked against guest memory when the chain
 * was popped, so these only move bytes; an access that needs more bytes than
 * are left throws `SHORT_BUFFER` and consumes nothing.
 */
import type { GuestMemory, ObjectLayout } from '@tsvmm/vm-memory';
import type { Descriptor } from './descriptor.js';
import { queueErrorFrom, VirtioQueueError } from './errors.js';

// One scratch area for all cursors: accesses are synchronous and never
// nested, and a per-cursor buffer would cost an allocation per request.
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

/** What `Reader` and `Writer` share: a position in a list of buffers. */
abstract class ChainCursor {
  protected readonly mem: GuestMemory;
  readonly #buffers: readonly Descriptor[];
  readonly #end: number;
  #index: number;
  #offset = 0;
  #remaining: number;
  #done = 0;

  /** A cursor over `buffers[from..to)`. */
  constructor(mem: GuestMemory, buffers: readonly Descriptor[], from = 0, to = buffers.length) {
    this.mem = mem;
    this.#buffers = buffers;
    this.#index = from;
    this.#end = to;
    let total = 0;
    for (let i = from; i < to; i++) total += buffers[i]!.len;
    this.#remaining = total;
    this.#skipEmpty();
  }

  /** Bytes left to read or write. */
  get availableBytes(): number {
    return this.#remaining;
  }

  /** Bytes consumed so far. */
  protected get done(): number {
    return this.#done;
  }

  #skipEmpty(): void {
    const buffers = this.#buffers;
    while (this.#index < this.#end && this.#offset === buffers[this.#index]!.len) {
      this.#index++;
      this.#offset = 0;
    }
  }

  /** Throws SHORT_BUFFER unless `n` bytes are left. */
  protected need(n: number): void {
    if (n > this.#remaining) {
      throw new VirtioQueueError('SHORT_BUFFER', `needs ${n} bytes, the chain has ${this.#remaining} left`);
    }
  }

  /**
   * The guest address of the next byte if the next `n` bytes lie in one
   * buffer, else undefined. Consumes nothing.
   */
  protected contiguous(n: number): bigint | undefined {
    if (this.#index >= this.#end) return undefined;
    const d = this.#buffers[this.#index]!;
    return d.len - this.#offset >= n ? d.addr + BigInt(this.#offset) : undefined;
  }

  /** Consumes `n` bytes (which must be available). */
  protected advance(n: number): void {
    this.#remaining -= n;
    this.#done += n;
    let left = n;
    const buffers = this.#buffers;
    while (left > 0) {
      const d = buffers[this.#index]!;
      const step = Math.min(left, d.len - this.#offset);
      this.#offset += step;
      left -= step;
      if (this.#offset === d.len) {
        this.#index++;
        this.#offset = 0;
      }
    }
    this.#skipEmpty();
  }

  /**
   * Copies between the next `n` bytes of the chain (which must be available)
   * and `buf[0..n)`, buffer by buffer, and consumes them.
   */
  protected transfer(buf: Uint8Array, n: number, toGuest: boolean): void {
    let copied = 0;
    const buffers = this.#buffers;
    try {
      while (copied < n) {
        const d = buffers[this.#index]!;
        const step = Math.min(n - copied, d.len - this.#offset);
        const at = d.addr + BigInt(this.#offset);
        const part = buf.subarray(copied, copied + step);
        if (toGuest) this.mem.writeSlice(at, part);
        else this.mem.readSlice(at, part);
        copied += step;
        this.advance(step);
      }
    } catch (err) {
      throw queueErrorFrom(err, toGuest ? 'writing a chain buffer' : 'reading a chain buffer');
    }
  }

  /** Zero-copy views of the next `n` bytes (which must be available), consumed. */
  protected views(n: number, writable: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    const buffers = this.#buffers;
    try {
      let left = n;
      while (left > 0) {
        const d = buffers[this.#index]!;
        const step = Math.min(left, d.len - this.#offset);
        out.push(...this.mem.getSlices(d.addr + BigInt(this.#offset), step, writable));
        left -= step;
        this.advance(step);
      }
    } catch (err) {
      throw queueErrorFrom(err, 'viewing a chain buffer');
    }
    return out;
  }

  /**
   * Skips `n` bytes (e.g. a header another layer handles).
   * @throws VirtioQueueError `SHORT_BUFFER` if fewer are left.
   */
  skip(n: number): void {
    checkCount(n, 'n');
    this.need(n);
    this.advance(n);
  }
}

/** Reads the device-readable part of a chain as one byte stream. */
export class Reader extends ChainCursor {
  /** Bytes read (or skipped) so far. */
  get bytesRead(): number {
    return this.done;
  }

  /** Copies up to `buf.length` bytes into `buf`; returns how many (0 at the end). */
  read(buf: Uint8Array): number {
    const n = Math.min(buf.length, this.availableBytes);
    this.transfer(buf, n, false);
    return n;
  }

  /** Fills all of `buf`. @throws VirtioQueueError `SHORT_BUFFER` if fewer bytes are left (nothing is consumed). */
  readExact(buf: Uint8Array): void {
    this.need(buf.length);
    this.transfer(buf, buf.length, false);
  }

  #small(n: number): DataView {
    this.need(n);
    this.transfer(scratch.subarray(0, n), n, false);
    return scratchView;
  }

  /** Reads a u8. */
  readU8(): number {
    return this.#small(1).getUint8(0);
  }

  /** Reads a little-endian u16. */
  readU16(): number {
    const at = this.contiguous(2);
    if (at === undefined) return this.#small(2).getUint16(0, true);
    try {
      const v = this.mem.readU16(at);
      this.advance(2);
      return v;
    } catch (err) {
      throw queueErrorFrom(err, 'reading a chain buffer');
    }
  }

  /** Reads a little-endian u32. */
  readU32(): number {
    const at = this.contiguous(4);
    if (at === undefined) return this.#small(4).getUint32(0, true);
    try {
      const v = this.mem.readU32(at);
      this.advance(4);
      return v;
    } catch (err) {
      throw queueErrorFrom(err, 'reading a chain buffer');
    }
  }

  /** Reads a little-endian u64. */
  readU64(): bigint {
    const at = this.contiguous(8);
    if (at === undefined) return this.#small(8).getBigUint64(0, true);
    try {
      const v = this.mem.readU64(at);
      this.advance(8);
      return v;
    } catch (err) {
      throw queueErrorFrom(err, 'reading a chain buffer');
    }
  }

  /** Decodes an object through its layout. */
  readObj<T>(layout: ObjectLayout<T>): T {
    const bytes = new Uint8Array(layout.size);
    this.readExact(bytes);
    return layout.read(new DataView(bytes.buffer), 0);
  }

  /**
   * Zero-copy views of the next `n` bytes (default: all that are left), for a
   * backend that writes them out (e.g. `writev`). They are consumed now.
   */
  slices(n = this.availableBytes): Uint8Array[] {
    checkCount(n, 'n');
    this.need(n);
    return this.views(n, false);
  }
}

/** Writes the device-writable part of a chain as one byte stream. */
export class Writer extends ChainCursor {
  /** Bytes written (or skipped) so far: what `addUsed` reports as the used length. */
  get bytesWritten(): number {
    return this.done;
  }

  /** Copies up to `buf.length` bytes from `buf`; returns how many (0 when the chain is full). */
  write(buf: Uint8Array): number {
    const n = Math.min(buf.length, this.availableBytes);
    this.transfer(buf, n, true);
    return n;
  }

  /** Writes all of `buf`. @throws VirtioQueueError `SHORT_BUFFER` if less room is left (nothing is written). */
  writeExact(buf: Uint8Array): void {
    this.need(buf.length);
    this.transfer(buf, buf.length, true);
  }

  #small(n: number): void {
    this.need(n);
    this.transfer(scratch.subarray(0, n), n, true);
  }

  /** Writes a u8. @throws RangeError if `value` is not one. */
  writeU8(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${value} is not a u8`);
    scratchView.setUint8(0, value);
    this.#small(1);
  }

  /** Writes a little-endian u16. */
  writeU16(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff)
      throw new RangeError(`${value} is not a u16`);
    scratchView.setUint16(0, value, true);
    this.#small(2);
  }

  /** Writes a little-endian u32. */
  writeU32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new RangeError(`${value} is not a u32`);
    scratchView.setUint32(0, value, true);
    this.#small(4);
  }

  /** Writes a little-endian u64. */
  writeU64(value: bigint): void {
    if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new RangeError(`${String(value)} is not a u64`);
    }
    scratchView.setBigUint64(0, value, true);
    this.#small(8);
  }

  /** Encodes an object through its layout. */
  writeObj<T>(layout: ObjectLayout<T>, value: T): void {
    const bytes = new Uint8Array(layout.size);
    layout.write(new DataView(bytes.buffer), 0, value, 'object written to a chain');
    this.writeExact(bytes);
  }

  /**
   * Zero-copy writable views of the next `n` bytes (default: all that are
   * left), for a backend that fills them (e.g. `readv` from a file). They are
   * consumed and marked dirty now; report what the backend really wrote in
   * `addUsed`.
   */
  slices(n = this.availableBytes): Uint8Array[] {
    checkCount(n, 'n');
    this.need(n);
    return this.views(n, true);
  }
}
