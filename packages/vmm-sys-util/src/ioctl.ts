/**
 * ioctl request encoding (asm-generic/ioctl.h) and the two ways of calling
 * one: with an integer argument, or with a pointer to a buffer's bytes.
 */
import { check } from './errors.js';
import { native } from './native.js';
import { assertBuffer, assertFd, assertU32, assertU64 } from './validate.js';

const IOC_NRBITS = 8;
const IOC_TYPEBITS = 8;
const IOC_SIZEBITS = 14;
const IOC_NRSHIFT = 0;
const IOC_TYPESHIFT = IOC_NRSHIFT + IOC_NRBITS;
const IOC_SIZESHIFT = IOC_TYPESHIFT + IOC_TYPEBITS;
const IOC_DIRSHIFT = IOC_SIZESHIFT + IOC_SIZEBITS;

export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

/** `_IOC(dir, type, nr, size)` as an unsigned 32-bit number. */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  if (size < 0 || size >= 1 << IOC_SIZEBITS)
    throw new RangeError(`ioctl argument size ${size} does not fit in 14 bits`);
  return (
    ((dir << IOC_DIRSHIFT) | (type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | (size << IOC_SIZESHIFT)) >>> 0
  );
}
export const io = (type: number, nr: number): number => ioc(IOC_NONE, type, nr, 0);
export const ior = (type: number, nr: number, size: number): number => ioc(IOC_READ, type, nr, size);
export const iow = (type: number, nr: number, size: number): number => ioc(IOC_WRITE, type, nr, size);
export const iowr = (type: number, nr: number, size: number): number =>
  ioc(IOC_READ | IOC_WRITE, type, nr, size);

/**
 * `ioctl(fd, request, arg)` with an integer argument. Returns the ioctl's
 * non-negative result; throws a SysError named `ioctl(<name>)` on failure.
 */
export function ioctl(
  fd: number,
  request: number,
  arg: number | bigint = 0,
  name = `0x${request.toString(16)}`,
): number {
  assertFd(fd);
  assertU32(request, 'request');
  assertU64(arg, 'arg');
  return check(native().ioctl(fd, request, arg), `ioctl(${name})`);
}

/** `ioctl(fd, request, &buf)`: the kernel reads and/or writes the buffer's bytes in place. */
export function ioctlBuffer(
  fd: number,
  request: number,
  buf: ArrayBuffer | ArrayBufferView,
  name = `0x${request.toString(16)}`,
): number {
  assertFd(fd);
  assertU32(request, 'request');
  assertBuffer(buf, 'buf');
  return check(native().ioctlBuffer(fd, request, buf), `ioctl(${name})`);
}

/**
 * The unchecked fast path for hot loops (KVM_RUN): no argument validation and
 * no allocation; returns the raw result, a negative errno on failure.
 */
export function ioctlRaw(fd: number, request: number, arg: number): number {
  return native().ioctl(fd, request, arg);
}
