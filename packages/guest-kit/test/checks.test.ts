import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureGuestKit, findGuestKit } from '../src/guest-kit.js';
import { checkFreeSpace, removeStaleBuilds } from '../src/kit-build.js';
import { failure, useTempDir } from './helpers.js';

const tmp = useTempDir('guest-kit-checks-');

describe('checks before any work', () => {
  it('DISK_FULL when the file system has less free space than a step needs', async () => {
    await checkFreeSpace(tmp.path, 1, 'a test');
    const error = await failure(checkFreeSpace(tmp.path, Number.MAX_SAFE_INTEGER, 'the kernel build'));
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(
      /^not enough disk space for the kernel build: [\d.]+ GiB free in .*, [\d.]+ GiB needed$/,
    );
  });

  it('ensureGuestKit and findGuestKit reject bad options before doing anything', async () => {
    await expect(ensureGuestKit({ jobs: 0 })).rejects.toThrow(RangeError);
    await expect(ensureGuestKit({ jobs: 1.5 })).rejects.toThrow(RangeError);
    await expect(ensureGuestKit({ cacheDir: '' })).rejects.toThrow(TypeError);
    await expect(findGuestKit(null as unknown as object)).rejects.toThrow(TypeError);
    await expect(ensureGuestKit({ log: 'x' as unknown as () => void })).rejects.toThrow(TypeError);
  });
});

describe('removeStaleBuilds', () => {
  it('removes build folders and locks of dead processes, and keeps everything else', async () => {
    const child = spawn('true');
    await new Promise((resolve) => child.on('close', resolve));
    const dead = child.pid!;
    const cache = join(tmp.path, 'cache');
    await mkdir(cache);
    for (const dir of [
      `.build-aaaa-${dead}`,
      `.build-bbbb-${process.pid}`,
      'aaaa.lock',
      'bbbb.lock',
      'cccc.lock',
      'kit1',
    ]) {
      await mkdir(join(cache, dir));
    }
    await writeFile(join(cache, 'aaaa.lock', 'pid'), `${dead}\n`);
    await writeFile(join(cache, 'bbbb.lock', 'pid'), `${process.pid}\n`);
    await removeStaleBuilds(cache);
    // cccc.lock has no pid yet: its owner is still creating it.
    expect((await readdir(cache)).sort()).toEqual([
      `.build-bbbb-${process.pid}`,
      'bbbb.lock',
      'cccc.lock',
      'kit1',
    ]);
  });
});
