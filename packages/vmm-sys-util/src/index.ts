export * from './epoll.js';
export { check, errnoName, SysError } from './errors.js';
export * from './eventfd.js';
export * from './fd.js';
export * from './ioctl.js';
export * from './mmap.js';
export type { NativeBinding } from './native.js';
export * from './thread.js';
