/**
 * The C baseline (src/c/c-vmm.c): built with the machine's gcc on first use
 * (cached by the source's hash), run on the test guest like the two VMMs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTestGuestResult, type TestGuestResult, testGuestPath } from '@tsvmm/test-guest';

const SOURCE = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './c/c-vmm.c' : '../src/c/c-vmm.c', import.meta.url),
);
const BUILD_DIR = fileURLToPath(new URL('../build/', import.meta.url));

/** The exit status of the C baseline when the guest ended on purpose (the i8042 reset, as for the reference VMM). */
export const C_VMM_DONE = 3;

/** Builds the C baseline if its source changed; returns the program's path. */
export function buildCVmm(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const program = join(BUILD_DIR, `c-vmm-${hash}`);
  if (existsSync(program)) return program;
  mkdirSync(BUILD_DIR, { recursive: true });
  const partial = `${program}.${process.pid}`;
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', partial, SOURCE], { stdio: 'inherit' });
  renameSync(partial, program);
  return program;
}

/** What a C baseline run gave. */
export interface CVmmRun {
  readonly exitCode: number | null;
  readonly console: string;
  readonly stderr: string;
  readonly result: TestGuestResult | undefined;
}

/** Runs the test guest with `cmdline` under the C baseline. */
export function runCVmm(cmdline: string, memoryMiB = 128): Promise<CVmmRun> {
  const program = buildCVmm();
  return new Promise((resolve, reject) => {
    const child = spawn(program, [testGuestPath(), cmdline, String(memoryMiB)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let consoleText = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (c: string) => {
      consoleText += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (exitCode) =>
      resolve({ exitCode, console: consoleText, stderr, result: parseTestGuestResult(consoleText) }),
    );
  });
}
