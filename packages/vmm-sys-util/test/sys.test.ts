import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  addressOf,
  close,
  EFD_NONBLOCK,
  EPOLLIN,
  Epoll,
  EventFd,
  errnoName,
  ftruncate,
  io,
  ioc,
  ioctl,
  ior,
  iow,
  iowr,
  MAP_PRIVATE,
  memfdCreate,
  mmap,
  munmap,
  O_RDONLY,
  open,
  pageSize,
  pipe,
  SysError,
  viewAt,
  writeRaw,
} from '../src/index.js';

describe('ioctl numbers', () => {
  it('encode like asm-generic/ioctl.h', () => {
    // Values from <linux/kvm.h>: KVM_GET_API_VERSION, KVM_RUN, KVM_GET_REGS (144 bytes), KVM_SET_USER_MEMORY_REGION (32 bytes)
    expect(io(0xae, 0x00)).toBe(0xae00);
    expect(io(0xae, 0x80)).toBe(0xae80);
    expect(ior(0xae, 0x81, 144)).toBe(0x8090ae81);
    expect(iow(0xae, 0x46, 32)).toBe(0x4020ae46);
    expect(iowr(0xae, 0x05, 8)).toBe(0xc008ae05);
  });

  it('rejects a size that does not fit', () => {
    expect(() => ioc(3, 0xae, 1, 1 << 14)).toThrow(RangeError);
  });
});

describe('system errors', () => {
  it('carry errno, code and syscall like Node errors', () => {
    const err = (() => {
      try {
        open('/nonexistent/really', O_RDONLY);
      } catch (e) {
        return e;
      }
    })() as SysError;
    expect(err).toBeInstanceOf(SysError);
    expect(err.code).toBe('ENOENT');
    expect(err.errno).toBe(2);
    expect(err.syscall).toBe('open');
  });

  it('are named like the kernel names them, also where Node has no name', () => {
    expect(errnoName(9)).toBe('EBADF');
    expect(errnoName(77)).toBe('EBADFD');
    expect(new SysError(77, 'readv').message).toBe('readv failed: EBADFD (errno 77)');
    expect(errnoName(4000)).toBe('E4000');
  });

  it('name the ioctl that failed', () => {
    const fd = open('/dev/null', O_RDONLY);
    try {
      expect(() => ioctl(fd, 0xae00, 0, 'KVM_GET_API_VERSION')).toThrow(
        expect.objectContaining({ code: 'ENOTTY', syscall: 'ioctl(KVM_GET_API_VERSION)' }),
      );
    } finally {
      close(fd);
    }
  });

  it('check arguments before calling into native code', () => {
    expect(() => close(-1)).toThrow(RangeError);
    expect(() => close(1.5)).toThrow(TypeError);
    expect(() => ioctl(0, -1)).toThrow(RangeError);
    expect(() => mmap(0)).toThrow(RangeError);
    expect(() => mmap(4096, { offset: 1 })).toThrow(RangeError);
  });
});

describe('mmap', () => {
  it('maps shared anonymous memory whose address is stable and viewable elsewhere', () => {
    const buf = mmap(2 * pageSize());
    const bytes = new Uint8Array(buf);
    bytes[5] = 42;
    const alias = new Uint8Array(viewAt(addressOf(buf), buf.byteLength));
    expect(alias[5]).toBe(42);
    alias[6] = 7;
    expect(bytes[6]).toBe(7);
    munmap(buf);
  });

  it('detaches on munmap and refuses a second munmap', () => {
    const buf = mmap(pageSize());
    munmap(buf);
    expect(buf.byteLength).toBe(0);
    expect(() => munmap(buf)).not.toThrow(); // a detached buffer is already released
    expect(() => munmap(new ArrayBuffer(8))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('never lets a released buffer unmap a new mapping at the same address', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let old: ArrayBuffer | undefined = mmap(pageSize());
    const oldAddress = addressOf(old);
    munmap(old);
    // The kernel hands the freed range to the next mapping of that size.
    const fresh = mmap(pageSize());
    expect(addressOf(fresh)).toBe(oldAddress);
    old = undefined; // the old buffer's finalizer runs now and must leave `fresh` mapped
    for (let i = 0; i < 3; i++) gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const words = new Uint32Array(fresh);
    words[0] = 0x12345678; // a crash here (SIGSEGV) is the bug
    expect(words[0]).toBe(0x12345678);
  });

  it('maps a memfd so that two mappings share pages', () => {
    const fd = memfdCreate('test');
    try {
      ftruncate(fd, pageSize());
      const a = new Uint32Array(mmap(pageSize(), { fd }));
      const b = new Uint32Array(mmap(pageSize(), { fd }));
      a[3] = 0xdeadbeef;
      expect(b[3]).toBe(0xdeadbeef);
    } finally {
      close(fd);
    }
  });

  it('maps a file privately', () => {
    const fd = open('/proc/self/cmdline', O_RDONLY);
    try {
      // procfs files cannot be mapped: the error is reported, not a crash
      expect(() => mmap(pageSize(), { fd, flags: MAP_PRIVATE })).toThrow(SysError);
    } finally {
      close(fd);
    }
  });

  it('lets a worker thread see the same pages', async () => {
    const buf = mmap(pageSize());
    const words = new Int32Array(buf);
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const native = require(workerData.addon);
       const view = new Int32Array(native.view(workerData.address, 4096));
       view[1] = view[0] + 1;
       parentPort.postMessage('done');`,
      {
        eval: true,
        workerData: {
          address: addressOf(buf),
          addon: new URL('../build/Release/vmm_sys_util.node', import.meta.url).pathname,
        },
      },
    );
    words[0] = 41;
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(words[1]).toBe(42);
  });
});

describe('eventfd and epoll', () => {
  it('counts writes and resets on read', () => {
    using efd = new EventFd(0, EFD_NONBLOCK);
    expect(efd.read()).toBe(0n);
    efd.write(2);
    efd.write(3n);
    expect(efd.read()).toBe(5n);
    expect(efd.read()).toBe(0n);
  });

  it('reports readiness through epoll with the registered key', () => {
    using efd = new EventFd(0, EFD_NONBLOCK);
    using ep = new Epoll();
    ep.add(efd.fd, EPOLLIN, 17);
    const seen: Array<[number, number]> = [];
    expect(ep.wait(0, (events, key) => seen.push([events, key]))).toBe(0);
    efd.write(1);
    expect(ep.wait(1000, (events, key) => seen.push([events, key]))).toBe(1);
    expect(seen).toEqual([[EPOLLIN, 17]]);
    ep.remove(efd.fd);
  });

  it('refuses use after close', () => {
    const efd = new EventFd();
    efd.close();
    expect(efd.closed).toBe(true);
    expect(() => efd.write(1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('pipe', () => {
  it('carries bytes from the write end to the read end', async () => {
    const { readSync, writeSync } = await import('node:fs');
    const [r, w] = pipe();
    try {
      expect(writeSync(w, Buffer.from('hello'))).toBe(5);
      const buf = Buffer.alloc(8);
      expect(readSync(r, buf)).toBe(5);
      expect(buf.subarray(0, 5).toString()).toBe('hello');
    } finally {
      close(r);
      close(w);
    }
  });

  it('writes once with writeRaw, and reports a full non-blocking pipe as -EAGAIN', async () => {
    const { readSync } = await import('node:fs');
    const [r, w] = pipe(0o4000); // O_NONBLOCK
    try {
      expect(writeRaw(w, Buffer.from('abc'))).toBe(3);
      const buf = Buffer.alloc(3);
      expect(readSync(r, buf)).toBe(3);
      expect(buf.toString()).toBe('abc');
      const chunk = new Uint8Array(65536);
      let result = 0;
      for (let i = 0; i < 64 && result >= 0; i++) result = writeRaw(w, chunk);
      expect(result).toBe(-11); // EAGAIN
      expect(writeRaw(-1, chunk)).toBe(-9); // EBADF
    } finally {
      close(r);
      close(w);
    }
  });

  it('refuses bad flags', () => {
    expect(() => pipe(1.5)).toThrow(TypeError);
    expect(() => pipe(-1)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'pipe2' }));
  });
});

describe('the host', () => {
  it('has the page size the kernel reports', () => {
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const kernelPage = Number(/KernelPageSize:\s+(\d+) kB/.exec(smaps)![1]) * 1024;
    expect(pageSize()).toBe(kernelPage);
  });
});
