/** Argument checks: each throws TypeError or RangeError before any native call. */

/** Throws unless `value` is an integer in `min..max`. */
export function assertInt(value: unknown, what: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  if (value < min || value > max) throw new RangeError(`${what} must be in ${min}..${max}, got ${value}`);
}

/** Throws unless `value` is an unsigned 32-bit integer. */
export function assertU32(value: unknown, what: string): asserts value is number {
  assertInt(value, what, 0, 0xffff_ffff);
}

/** Throws unless `value` is a bigint in 0..2^64-1. */
export function assertU64(value: unknown, what: string): asserts value is bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${what} must be a bigint, got ${typeof value}`);
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn)
    throw new RangeError(`${what} must fit in 64 bits, got ${value}`);
}

/** A file descriptor given as a number or as an object with an `fd` (an `EventFd`). */
export type FdLike = number | { readonly fd: number };

/** The descriptor number of an {@link FdLike}. */
export function fdOf(value: FdLike, what: string): number {
  const fd = typeof value === 'number' ? value : value?.fd;
  assertInt(fd, what, 0, 0x7fff_ffff);
  return fd;
}
