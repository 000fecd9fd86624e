/**
 * The typed seam between TypeScript and the C++ addon (native/binding.cc).
 *
 * Every native function returns a negative errno on failure instead of
 * throwing; the wrappers in this package turn that into a {@link SysError}.
 * Nothing here checks arguments: callers do, before the call.
 */
import { createRequire } from 'node:module';

export interface NativeBinding {
  open(path: string, flags: number): number;
  close(fd: number): number;
  ioctl(fd: number, request: number, arg: number | bigint): number;
  ioctlBuffer(fd: number, request: number, buf: ArrayBuffer | ArrayBufferView): number;
  mmap(
    length: number,
    prot: number,
    flags: number,
    fd: number,
    offset: number | bigint,
  ): ArrayBuffer | number;
  munmap(buf: ArrayBuffer): number;
  madvise(buf: ArrayBuffer | ArrayBufferView, advice: number): number;
  addressOf(buf: ArrayBuffer | ArrayBufferView): bigint;
  view(address: bigint, length: number): ArrayBuffer;
  eventfd(initval: number, flags: number): number;
  eventfdRead(fd: number): bigint | number;
  eventfdWrite(fd: number, value: bigint): number;
  epollCreate(): number;
  epollCtl(epfd: number, op: number, fd: number, events: number, key: number): number;
  epollWait(epfd: number, out: Uint32Array, timeoutMs: number): number;
  memfdCreate(name: string, flags: number): number;
  ftruncate(fd: number, length: bigint): number;
  installKickHandler(signo: number): number;
  sigrtmin(): number;
  threadSelf(): bigint;
  threadKill(thread: bigint, signo: number): number;
  gettid(): number;
  pipe(flags: number): [number, number] | number;
  write(fd: number, data: ArrayBuffer | ArrayBufferView): number;
  pageSize(): number;
}

let binding: NativeBinding | undefined;

/** Loads the addon on first use, so that importing this package costs nothing. */
export function native(): NativeBinding {
  if (binding === undefined) {
    const require = createRequire(import.meta.url);
    binding = require('../build/Release/vmm_sys_util.node') as NativeBinding;
  }
  return binding;
}
