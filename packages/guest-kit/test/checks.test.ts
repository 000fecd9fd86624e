import { describe, expect, it } from 'vitest';
import { ensureGuestKit, findGuestKit } from '../src/guest-kit.js';
import { checkFreeSpace } from '../src/kit-build.js';
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
