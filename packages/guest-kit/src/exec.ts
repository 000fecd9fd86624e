import { execFile } from 'node:child_process';

/** What a finished command printed and how it exited. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and with which environment {@link run} starts a program. */
export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Runs a program to completion without a shell and collects its output. A
 * program that cannot be started (not installed) yields code 127 and the
 * reason in `stderr`, like a shell would; it never throws.
 */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 64 << 20, env: options.env ?? process.env, cwd: options.cwd },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        const code = typeof error.code === 'number' ? error.code : 127;
        resolve({ code, stdout, stderr: stderr || error.message });
      },
    );
  });
}

/** The last non-empty line of a command's error output, for one-line messages. */
export function lastLine(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines.at(-1)?.trim() ?? '';
}
