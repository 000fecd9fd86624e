/**
 * One long build step: a child process whose output goes to a log file, with a
 * line when it starts, a heartbeat while it runs and its time when it ends. On
 * failure the error carries the log's tail, and a full disk is named as such.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { GuestKitError } from './error.js';

/** What {@link runPhase} runs and how it reports. */
export interface PhaseSpec {
  /** Shown in progress lines and errors, e.g. `kernel build (make -j2 vmlinux bzImage)`. */
  readonly title: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the step's stdout and stderr (appended). */
  readonly logFile: string;
  readonly log: (line: string) => void;
  /** Milliseconds between "still running" lines; 0 for none. Default 30 s. */
  readonly heartbeatMs?: number;
  /** Extra detail for a heartbeat line, computed from the log so far. */
  readonly describe?: (logText: string) => string;
}

/** Lines of the log quoted in a failure message. */
export const LOG_TAIL_LINES = 25;

const NO_SPACE = /No space left on device/;

/** Runs one step to completion; returns its duration in seconds. */
export async function runPhase(spec: PhaseSpec): Promise<number> {
  const started = performance.now();
  const seconds = (): string => ((performance.now() - started) / 1000).toFixed(1);
  spec.log(`${spec.title} ...`);
  const logHandle = await open(spec.logFile, 'a');
  let code: number | null;
  let signal: NodeJS.Signals | null;
  const interval = spec.heartbeatMs ?? 30_000;
  const timer =
    interval > 0
      ? setInterval(() => {
          void readFile(spec.logFile, 'utf8').then(
            (text) => {
              const detail = spec.describe?.(text);
              spec.log(`${spec.title}: still running, ${seconds()} s${detail ? `, ${detail}` : ''}`);
            },
            () => undefined,
          );
        }, interval)
      : undefined;
  try {
    [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      const child = spawn(spec.file, spec.args, {
        stdio: ['ignore', logHandle.fd, logHandle.fd],
        env: spec.env ?? process.env,
      });
      child.on('error', reject);
      child.on('close', (c, s) => resolve([c, s]));
    });
  } catch (cause) {
    throw new GuestKitError('BUILD_FAILED', `${spec.title} could not start: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    if (timer !== undefined) clearInterval(timer);
    await logHandle.close();
  }
  if (code === 0) {
    spec.log(`${spec.title}: done in ${seconds()} s`);
    return Number(seconds());
  }
  const text = await readFile(spec.logFile, 'utf8');
  const tail = text
    .split('\n')
    .slice(-LOG_TAIL_LINES - 1)
    .join('\n')
    .trimEnd();
  const how = code === null ? `killed by ${signal}` : `exit status ${code}`;
  if (NO_SPACE.test(text)) {
    throw new GuestKitError(
      'DISK_FULL',
      `${spec.title} failed: no space left on device; free some disk space and run again (log: ${spec.logFile})`,
    );
  }
  throw new GuestKitError('BUILD_FAILED', `${spec.title} failed (${how}); log: ${spec.logFile}\n${tail}`);
}
