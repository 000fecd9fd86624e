import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_TAIL_LINES, runPhase } from '../src/phase.js';
import { failure, useTempDir } from './helpers.js';

const tmp = useTempDir('guest-kit-phase-');

describe('runPhase', () => {
  it('logs start and end, sends the output to the log file and returns the duration', async () => {
    const lines: string[] = [];
    const logFile = join(tmp.path, 'ok.log');
    const seconds = await runPhase({
      title: 'step one',
      file: 'sh',
      args: ['-c', 'echo to-stdout; echo to-stderr >&2'],
      logFile,
      log: (line) => lines.push(line),
    });
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(lines[0]).toBe('step one ...');
    expect(lines[1]).toMatch(/^step one: done in \d+\.\d s$/);
    expect(await readFile(logFile, 'utf8')).toBe('to-stdout\nto-stderr\n');
  });

  it('prints a heartbeat with a detail taken from the log while the step runs', async () => {
    const lines: string[] = [];
    await runPhase({
      title: 'slow',
      file: 'sh',
      args: ['-c', 'echo "  CC a.o"; echo "  CC b.o"; sleep 0.6'],
      logFile: join(tmp.path, 'slow.log'),
      log: (line) => lines.push(line),
      heartbeatMs: 150,
      describe: (text) => `${text.match(/ {2}CC /g)?.length ?? 0} compiled`,
    });
    expect(lines.some((line) => /^slow: still running, \d+\.\d s, 2 compiled$/.test(line))).toBe(true);
  });

  it('fails with BUILD_FAILED, the exit status, the log path and the log tail', async () => {
    const logFile = join(tmp.path, 'fail.log');
    const error = await failure(
      runPhase({
        title: 'broken step',
        file: 'sh',
        args: ['-c', 'i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); done; exit 3'],
        logFile,
        log: () => {},
      }),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message.split('\n')[0]).toBe(`broken step failed (exit status 3); log: ${logFile}`);
    expect(error.message).toContain('line39');
    expect(error.message).not.toContain('line0\n');
    expect(error.message.split('\n')).toHaveLength(LOG_TAIL_LINES + 1);
  });

  it('fails with BUILD_FAILED when the program cannot be started', async () => {
    const error = await failure(
      runPhase({
        title: 'missing',
        file: '/nonexistent/tool',
        args: [],
        logFile: join(tmp.path, 'x.log'),
        log: () => {},
      }),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(/^missing could not start: .*ENOENT/);
  });

  it('fails with DISK_FULL when the step ran out of space', async () => {
    // /dev/full answers every write with ENOSPC, as a full file system does.
    const error = await failure(
      runPhase({
        title: 'writer',
        file: 'dd',
        args: ['if=/dev/zero', 'of=/dev/full', 'bs=512', 'count=1'],
        logFile: join(tmp.path, 'full.log'),
        log: () => {},
      }),
    );
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(/^writer failed: no space left on device; free some disk space/);
  });
});
