/** Argument checks shared by the wrappers; each throws before any native call. */

export function assertFd(fd: unknown, what = 'fd'): asserts fd is number {
  if (typeof fd !== 'number' || !Number.isInteger(fd))
    throw new TypeError(`${what} must be an integer, got ${String(fd)}`);
  if (fd < 0 || fd > 0x7fffffff)
    throw new RangeError(`${what} must be a non-negative 32-bit integer, got ${fd}`);
}

export function assertU32(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > 0xffffffff)
    throw new RangeError(`${what} must fit in 32 bits unsigned, got ${value}`);
}

export function assertU64(value: unknown, what: string): asserts value is number | bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn)
      throw new RangeError(`${what} must fit in 64 bits unsigned, got ${value}`);
    return;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be a safe integer or a bigint, got ${String(value)}`);
  }
  if (value < 0) throw new RangeError(`${what} must be non-negative, got ${value}`);
}

export function assertLength(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`${what} must be a safe integer, got ${String(value)}`);
  if (value <= 0) throw new RangeError(`${what} must be positive, got ${value}`);
}

export function assertBuffer(buf: unknown, what: string): asserts buf is ArrayBuffer | ArrayBufferView {
  if (!(buf instanceof ArrayBuffer) && !ArrayBuffer.isView(buf)) {
    throw new TypeError(`${what} must be an ArrayBuffer or a view on one`);
  }
}
