import { spawn } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { processAlive, withLock } from '../src/lock.js';
import { useTempDir } from './helpers.js';

const tmp = useTempDir('guest-kit-lock-');

describe('withLock', () => {
  it('runs holders one after another and removes the lock afterwards', async () => {
    const lock = join(tmp.path, 'a.lock');
    const events: string[] = [];
    const lines: string[] = [];
    const holder = (name: string) =>
      withLock(
        lock,
        (line) => lines.push(line),
        async () => {
          events.push(`${name} in`);
          await sleep(300);
          events.push(`${name} out`);
          return name;
        },
      );
    const results = await Promise.all([holder('first'), sleep(50).then(() => holder('second'))]);
    expect(results).toEqual(['first', 'second']);
    expect(events).toEqual(['first in', 'first out', 'second in', 'second out']);
    expect(lines).toEqual([`waiting for the build running in process ${process.pid} (${lock})`]);
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('releases the lock when the holder throws', async () => {
    const lock = join(tmp.path, 'b.lock');
    await expect(
      withLock(
        lock,
        () => {},
        () => Promise.reject(new Error('boom')),
      ),
    ).rejects.toThrow('boom');
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock whose owner has exited', async () => {
    const child = spawn('true');
    const pid = child.pid!;
    await new Promise((resolve) => child.on('close', resolve));
    expect(processAlive(pid)).toBe(false);
    const lock = join(tmp.path, 'c.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'pid'), `${pid}\n`);
    expect(
      await withLock(
        lock,
        () => {},
        async () => 'taken',
      ),
    ).toBe('taken');
  });
});
