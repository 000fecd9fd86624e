import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadElf } from '@tsvmm/linux-loader';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestGuest, TestGuestError, testGuestPath } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'test-guest-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildTestGuest', () => {
  it('builds an ELF the project’s loader boots by PVH, loaded at 1 MiB', () => {
    const build = buildTestGuest({ outDir: dir });
    expect(build.path).toBe(join(dir, 'test-guest.elf'));
    const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 16 << 20 }]);
    const loaded = loadElf(mem, build.path);
    expect(loaded.loadedRange.start).toBe(0x100000n);
    // The PVH note names the 32-bit entry, which is the first byte of the image.
    expect(loaded.pvhEntry).toBe(0x100000n);
    expect(readFileSync(build.path).subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
  });

  it('takes the image from the cache while the inputs are the same, and rebuilds on demand', () => {
    const first = buildTestGuest({ outDir: dir });
    const again = buildTestGuest({ outDir: dir });
    expect(again.built).toBe(false);
    expect(again.inputsHash).toBe(first.inputsHash);
    const mtime = statSync(again.path).mtimeMs;
    const forced = buildTestGuest({ outDir: dir, force: true });
    expect(forced.built).toBe(true);
    expect(forced.inputsHash).toBe(first.inputsHash);
    expect(statSync(forced.path).mtimeMs).toBeGreaterThanOrEqual(mtime);
  });

  it('BUILD_FAILED when the compiler cannot run', () => {
    const err = (() => {
      try {
        buildTestGuest({ outDir: dir, cc: '/nonexistent/gcc' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TestGuestError);
    expect((err as TestGuestError).code).toBe('BUILD_FAILED');
    expect((err as TestGuestError).cause).toBeDefined();
  });

  it('BUILD_FAILED carries the compiler’s output when compiling fails', () => {
    // `true --version` prints nothing and succeeds, then `true` "compiles" without writing an image.
    expect(() => buildTestGuest({ outDir: join(dir, 'x'), cc: 'true' })).toThrow(
      expect.objectContaining({ code: 'BUILD_FAILED' }),
    );
  });

  it('rejects a bad outDir before doing anything', () => {
    expect(() => buildTestGuest({ outDir: 42 as unknown as string })).toThrow(TypeError);
  });

  it('testGuestPath() is the package’s own build', () => {
    expect(testGuestPath()).toMatch(/dist\/guest\/test-guest\.elf$/);
  });
});
