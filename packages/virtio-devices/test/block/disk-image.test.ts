/** The raw image backend, on real files. */
import { chmodSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SysError } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import { DiskImage } from '../../src/block/index.js';
import { VirtioDevicesError, type VirtioDevicesErrorCode } from '../../src/errors.js';
import { patternByte, patternImage, tempDir } from './helpers.js';

/** The VirtioDevicesError `fn` throws, with `code`, whose cause is a SysError; returns that cause. */
function sysErrorOf(fn: () => unknown, code: VirtioDevicesErrorCode = 'BACKEND_IO'): SysError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof VirtioDevicesError)) throw err;
    expect(err.code).toBe(code);
    expect(err.cause).toBeInstanceOf(SysError);
    return err.cause as SysError;
  }
  throw new Error('expected a VirtioDevicesError');
}
const openErrorOf = (fn: () => unknown) => sysErrorOf(fn, 'BACKEND_OPEN');

describe('DiskImage.open', () => {
  it('opens an image read-write: its size, capacity in whole sectors, descriptor', () => {
    const path = patternImage(5000);
    const disk = DiskImage.open(path);
    expect(disk.readOnly).toBe(false);
    expect(disk.size).toBe(5000);
    expect(disk.capacity).toBe(9n);
    expect(disk.toDescriptor()).toEqual({ fd: disk.fd, readOnly: false, size: 5000, path });
    disk.close();
    disk.close(); // idempotent
    expect(() => fstatSync(disk.fd)).toThrow(/EBADF/);
  });

  it('a missing file: BACKEND_OPEN naming the path, caused by SysError ENOENT from open', () => {
    const path = join(tempDir(), 'missing.img');
    expect(() => DiskImage.open(path)).toThrow(`cannot open disk image ${path}: open failed: ENOENT`);
    const e = openErrorOf(() => DiskImage.open(path));
    expect(e).toMatchObject({ errno: 2, code: 'ENOENT', syscall: 'open' });
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('a directory: EISDIR read-write, and EINVAL ("not a regular file") read-only', () => {
    const dir = tempDir();
    expect(openErrorOf(() => DiskImage.open(dir))).toMatchObject({ code: 'EISDIR', syscall: 'open' });
    const e = openErrorOf(() => DiskImage.open(dir, { readOnly: true }));
    expect(e).toMatchObject({ errno: 22, code: 'EINVAL', syscall: 'open' });
    expect(e.message).toContain('not a regular file');
  });

  it('a device node is not a regular file either', () => {
    expect(openErrorOf(() => DiskImage.open('/dev/null', { readOnly: true }))).toMatchObject({
      code: 'EINVAL',
    });
  });

  it('a file without write permission opens read-only, and read-write fails unless the VMM is root', () => {
    const path = patternImage(512);
    chmodSync(path, 0o444);
    const ro = DiskImage.open(path, { readOnly: true });
    expect(ro.readOnly).toBe(true);
    ro.close();
    if (process.getuid?.() !== 0) {
      expect(openErrorOf(() => DiskImage.open(path))).toMatchObject({ code: 'EACCES', syscall: 'open' });
    }
  });

  it('bad arguments are TypeErrors, before anything is opened', () => {
    expect(() => DiskImage.open('')).toThrow(TypeError);
    expect(() => DiskImage.open(3 as unknown as string)).toThrow(TypeError);
    expect(() => DiskImage.open('/x', { readOnly: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('reading and writing', () => {
  it('readAt scatters the file into views (empty ones included), writeAt gathers them', () => {
    const path = patternImage(4096);
    const disk = DiskImage.open(path);
    const views = [new Uint8Array(3), new Uint8Array(0), new Uint8Array(509)];
    expect(disk.readAt(views, 1024)).toBe(512);
    expect([...views[0]!, ...views[2]!]).toEqual(
      Array.from({ length: 512 }, (_, i) => patternByte(1024 + i)),
    );
    expect(disk.writeAt([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)], 4093)).toBe(3);
    disk.flush();
    expect([...readFileSync(path).subarray(4092)]).toEqual([patternByte(4092), 1, 2, 3]);
    disk.close();
  });

  it('finishes transfers the kernel cuts short (more vectors than IOV_MAX)', () => {
    const path = patternImage(3000);
    const disk = DiskImage.open(path);
    const views = Array.from({ length: 3000 }, () => new Uint8Array(1));
    expect(disk.readAt(views, 0)).toBe(3000);
    expect(views.map((v) => v[0])).toEqual(Array.from({ length: 3000 }, (_, i) => patternByte(i)));
    const ones = Array.from({ length: 2500 }, (_, i) => Uint8Array.of(i & 0xff));
    expect(disk.writeAt(ones, 100)).toBe(2500);
    expect([...readFileSync(path).subarray(100, 2600)]).toEqual(
      Array.from({ length: 2500 }, (_, i) => i & 0xff),
    );
    disk.close();
  });

  it('writeZeroesAt zeroes exactly the range', () => {
    const path = patternImage(8192);
    const disk = DiskImage.open(path);
    disk.writeZeroesAt(1000, 5000);
    const file = readFileSync(path);
    expect(file[999]).toBe(patternByte(999));
    expect(file.subarray(1000, 6000).every((b) => b === 0)).toBe(true);
    expect(file[6000]).toBe(patternByte(6000));
    disk.writeZeroesAt(8192, 0);
    disk.close();
  });

  it('a read-only image refuses writes (BACKEND_IO, SysError EBADF) and leaves the file alone', () => {
    const path = patternImage(1024);
    const disk = DiskImage.open(path, { readOnly: true });
    expect(sysErrorOf(() => disk.writeAt([Uint8Array.of(1)], 0))).toMatchObject({
      code: 'EBADF',
      syscall: 'pwritev',
    });
    expect(sysErrorOf(() => disk.writeZeroesAt(0, 512))).toMatchObject({ code: 'EBADF', syscall: 'pwritev' });
    expect(readFileSync(path)[0]).toBe(patternByte(0));
    disk.close();
  });

  it('ranges outside the image, and offsets that are not safe integers, are RangeErrors', () => {
    const disk = DiskImage.open(patternImage(1024));
    expect(() => disk.readAt([new Uint8Array(2)], 1023)).toThrow(RangeError);
    expect(() => disk.writeAt([new Uint8Array(1)], 1024)).toThrow(RangeError);
    expect(() => disk.writeZeroesAt(512, 513)).toThrow(RangeError);
    expect(() => disk.readAt([new Uint8Array(1)], -1)).toThrow(RangeError);
    expect(() => disk.readAt([new Uint8Array(1)], 0.5)).toThrow(RangeError);
    expect(() => disk.writeZeroesAt(0, -1)).toThrow(RangeError);
    disk.close();
  });

  it('system failures are BACKEND_IO with the SysError as cause: preadv on a directory (EISDIR), pwritev to /dev/full (ENOSPC), fdatasync of /dev/full (EINVAL)', () => {
    const dir = tempDir();
    const onDir = DiskImage.fromDescriptor({
      fd: openSync(dir, 'r'),
      readOnly: false,
      size: 4096,
      path: dir,
    });
    expect(sysErrorOf(() => onDir.readAt([new Uint8Array(8)], 0))).toMatchObject({
      code: 'EISDIR',
      errno: 21,
    });
    onDir.close();
    const full = DiskImage.fromDescriptor({
      fd: openSync('/dev/full', 'r+'),
      readOnly: false,
      size: 4096,
      path: '/dev/full',
    });
    expect(sysErrorOf(() => full.writeAt([new Uint8Array(8)], 0))).toMatchObject({
      code: 'ENOSPC',
      errno: 28,
    });
    expect(sysErrorOf(() => full.writeZeroesAt(0, 8))).toMatchObject({ code: 'ENOSPC' });
    expect(sysErrorOf(() => full.flush())).toMatchObject({ code: 'EINVAL', syscall: 'fdatasync' });
    full.close();
  });

  it('a file that shrank: readAt returns what there was', () => {
    const dir = tempDir();
    const path = join(dir, 'x.img');
    writeFileSync(path, new Uint8Array(1024).fill(9));
    const disk = DiskImage.open(path);
    writeFileSync(path, new Uint8Array(600).fill(9));
    const view = new Uint8Array(512);
    expect(disk.readAt([view], 512)).toBe(88);
    disk.close();
  });
});

describe('DiskImage.fromDescriptor', () => {
  it('shares the file descriptor of the image it describes', () => {
    const disk = DiskImage.open(patternImage(2048), { readOnly: true });
    const other = DiskImage.fromDescriptor(structuredClone(disk.toDescriptor()));
    expect(other).toMatchObject({ fd: disk.fd, readOnly: true, size: 2048, capacity: 4n });
    const v = new Uint8Array(1);
    other.readAt([v], 513);
    expect(v[0]).toBe(patternByte(513));
    other.close();
  });

  it('anything else is a TypeError', () => {
    const good = { fd: 3, readOnly: false, size: 0, path: 'p' };
    for (const bad of [
      null,
      5,
      { ...good, fd: -1 },
      { ...good, fd: 1.5 },
      { ...good, readOnly: 1 },
      { ...good, size: -1 },
      { ...good, size: 2 ** 53 },
      { ...good, path: 7 },
    ])
      expect(() => DiskImage.fromDescriptor(bad as never)).toThrow(TypeError);
  });
});
