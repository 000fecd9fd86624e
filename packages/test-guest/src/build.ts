/**
 * Builds the test guest from its C and assembly sources (src/guest) with the
 * machine's gcc into an ELF with a PVH note, cached: the image is rebuilt
 * only when a source file, the flags or the compiler changed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestGuestError } from './errors.js';

/** Where the guest's sources are, next to this module in src/ or one folder up from dist/. */
export const TEST_GUEST_SOURCE_DIR: string = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './guest/' : '../src/guest/', import.meta.url),
);
/** Where the built guest goes by default (git-ignored). */
export const TEST_GUEST_BUILD_DIR: string = fileURLToPath(new URL('../dist/guest/', import.meta.url));

/**
 * The compiler flags: freestanding, no libc, no PIC, no red zone (trap frames
 * land on the kernel stack), no stack protector, and integer registers only,
 * so the kernel-mode part never executes SSE, which a software KVM's
 * instruction emulator may not handle.
 */
export const TEST_GUEST_CFLAGS: readonly string[] = [
  '-std=gnu11',
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-ffreestanding',
  '-nostdlib',
  '-static',
  '-fno-pic',
  '-no-pie',
  '-mno-red-zone',
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-fno-tree-loop-distribute-patterns',
  '-mgeneral-regs-only',
];

const IMAGE_NAME = 'test-guest.elf';
const STAMP_NAME = 'test-guest.inputs';

/** A built test guest. */
export interface TestGuestBuild {
  /** The ELF image, for a VMM's `--kernel` / QEMU's `-kernel`. */
  readonly path: string;
  /** Hash of everything the image was built from. */
  readonly inputsHash: string;
  /** Whether this call compiled it (false: it came from the cache). */
  readonly built: boolean;
}

/** Options of {@link buildTestGuest}. */
export interface BuildOptions {
  /** Where to put the image (default: the package's dist/guest). */
  readonly outDir?: string;
  /** Compile even if the cached image is current. */
  readonly force?: boolean;
  /** The C compiler (default `gcc`). */
  readonly cc?: string;
}

function sources(): string[] {
  return readdirSync(TEST_GUEST_SOURCE_DIR)
    .filter((f) => /\.(c|h|S|ld)$/.test(f))
    .sort();
}

function compilerVersion(cc: string): string {
  try {
    return execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch (e) {
    throw new TestGuestError('BUILD_FAILED', `cannot run the C compiler ${cc}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function inputsHash(cc: string): string {
  const hash = createHash('sha256');
  hash.update(`${compilerVersion(cc)}\n${TEST_GUEST_CFLAGS.join(' ')}\n`);
  for (const file of sources()) {
    hash.update(`${file}\n`);
    hash.update(readFileSync(join(TEST_GUEST_SOURCE_DIR, file)));
  }
  return hash.digest('hex');
}

/**
 * Builds the test guest, or returns the cached image when its inputs have
 * not changed. The image is compiled in a private folder and renamed into
 * place, so concurrent callers never see half an image.
 * @throws TestGuestError `BUILD_FAILED` with the compiler's output.
 */
export function buildTestGuest(options: BuildOptions = {}): TestGuestBuild {
  if (options.outDir !== undefined && typeof options.outDir !== 'string')
    throw new TypeError('outDir must be a string');
  const cc = options.cc ?? 'gcc';
  const outDir = options.outDir ?? TEST_GUEST_BUILD_DIR;
  const path = join(outDir, IMAGE_NAME);
  const stamp = join(outDir, STAMP_NAME);
  const hash = inputsHash(cc);
  if (!options.force && existsSync(path) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
    return { path, inputsHash: hash, built: false };
  }
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(outDir, '.build-'));
  try {
    const files = sources()
      .filter((f) => /\.(c|S)$/.test(f))
      .map((f) => join(TEST_GUEST_SOURCE_DIR, f));
    const image = join(work, IMAGE_NAME);
    const linker = [
      `-Wl,-T,${join(TEST_GUEST_SOURCE_DIR, 'linker.ld')}`,
      '-Wl,--build-id=none',
      '-Wl,-z,noexecstack',
      '-Wl,-z,max-page-size=4096',
    ];
    try {
      execFileSync(cc, [...TEST_GUEST_CFLAGS, ...linker, '-o', image, ...files], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new TestGuestError(
        'BUILD_FAILED',
        `building the test guest failed:\n${err.stderr ?? err.message}`,
        {
          cause: e,
        },
      );
    }
    if (!existsSync(image)) throw new TestGuestError('BUILD_FAILED', `${cc} succeeded but wrote no image`);
    writeFileSync(join(work, STAMP_NAME), hash);
    renameSync(image, path);
    renameSync(join(work, STAMP_NAME), stamp);
    return { path, inputsHash: hash, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The path of the test guest's ELF image, built first if it is missing or stale. */
export function testGuestPath(): string {
  return buildTestGuest().path;
}
