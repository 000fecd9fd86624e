/**
 * `ensureGuestKit()` and `findGuestKit()`: the kit for the current inputs,
 * from the cache or built into it. The CLI (`pnpm guest:build`) runs the same
 * code.
 */
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { aptUpdate, ensureHostPackages } from './apt.js';
import { GuestKitError } from './error.js';
import { GUEST_BOOT_MARKER, GUEST_KERNEL_CMDLINE } from './guest-protocol.js';
import { BUILD_PACKAGES, forgetHostInputs, type ResolvedInputs, resolveInputs } from './inputs.js';
import { buildKit } from './kit-build.js';
import { withLock } from './lock.js';
import { type GuestKitManifest, type OUTPUT_FILES, readManifest } from './manifest.js';

/** A built kit: absolute paths of its files, the command line to boot it with, and its manifest. */
export interface GuestKit {
  /** The kit's folder, `<cacheDir>/<first 16 digits of the inputs hash>`. */
  readonly dir: string;
  /** The kit's kernel, ELF with a PVH note. */
  readonly vmlinux: string;
  /** The same kernel as a bzImage. */
  readonly bzImage: string;
  /** Uncompressed newc cpio with busybox and the kit's /init. */
  readonly initramfs: string;
  /** ext4 image of the same root. */
  readonly rootfs: string;
  /** Debian's stock kernel bzImage. */
  readonly debianBzImage: string;
  /** The kernel's .config. */
  readonly kernelConfig: string;
  /** The kernel's System.map. */
  readonly systemMap: string;
  /** The recommended kernel command line ({@link GUEST_KERNEL_CMDLINE}). */
  readonly cmdline: string;
  /** The line /init prints once user space is up ({@link GUEST_BOOT_MARKER}). */
  readonly bootMarker: string;
  readonly manifest: GuestKitManifest;
}

/** Options of {@link ensureGuestKit} and {@link findGuestKit}. */
export interface GuestKitOptions {
  /** The cache root. Default: `$TSVMM_GUEST_KIT_DIR`, else `~/.cache/tsvmm/guest-kit`. */
  readonly cacheDir?: string;
  /** Receives progress lines. Default: stderr, prefixed with `guest-kit: `. */
  readonly log?: (line: string) => void;
  /** Parallel jobs for the kernel build. Default: the number of CPUs. */
  readonly jobs?: number;
  /** Install missing build tools with apt-get. Default: when running as root. */
  readonly installPackages?: boolean;
}

/** The cache root used when no `cacheDir` is given. */
export function defaultCacheDir(): string {
  return process.env.TSVMM_GUEST_KIT_DIR || join(homedir(), '.cache', 'tsvmm', 'guest-kit');
}

/** The name of a kit's folder: the first 16 hex digits of its inputs hash. */
export function kitDirName(inputsHash: string): string {
  return inputsHash.slice(0, 16);
}

const defaultLog = (line: string): void => {
  process.stderr.write(`guest-kit: ${line}\n`);
};

function checkOptions(options: GuestKitOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir === '')) {
    throw new TypeError('cacheDir must be a non-empty string');
  }
  if (options.log !== undefined && typeof options.log !== 'function')
    throw new TypeError('log must be a function');
  if (options.jobs !== undefined && (!Number.isSafeInteger(options.jobs) || options.jobs < 1)) {
    throw new RangeError('jobs must be a positive integer');
  }
}

function toKit(dir: string, manifest: GuestKitManifest): GuestKit {
  const file = (name: keyof typeof OUTPUT_FILES): string => join(dir, manifest.outputs[name].path);
  return {
    dir,
    vmlinux: file('vmlinux'),
    bzImage: file('bzImage'),
    initramfs: file('initramfs'),
    rootfs: file('rootfs'),
    debianBzImage: file('debianBzImage'),
    kernelConfig: file('kernelConfig'),
    systemMap: file('systemMap'),
    cmdline: manifest.cmdline,
    bootMarker: manifest.bootMarker,
    manifest,
  };
}

async function cachedKit(cacheDir: string, inputsHash: string): Promise<GuestKit | undefined> {
  const dir = join(cacheDir, kitDirName(inputsHash));
  const manifest = await readManifest(dir, inputsHash);
  return manifest === undefined ? undefined : toKit(dir, manifest);
}

/**
 * The cached kit for the current inputs, or undefined when it has not been
 * built (or the build tools it depends on are not installed). Never builds,
 * installs or downloads anything.
 */
export async function findGuestKit(options: GuestKitOptions = {}): Promise<GuestKit | undefined> {
  checkOptions(options);
  let resolved: ResolvedInputs;
  try {
    resolved = await resolveInputs();
  } catch (error) {
    if (error instanceof GuestKitError) return undefined;
    throw error;
  }
  return cachedKit(options.cacheDir ?? defaultCacheDir(), resolved.hash);
}

/**
 * The kit for the current inputs: taken from the cache when it is there,
 * built into it otherwise (several minutes: the kernel is compiled). Installs
 * missing build tools (as root), runs `apt-get update` when the package lists
 * lack a package or a fetch fails, and builds in a private folder that is
 * renamed into place only when complete, so an interrupted build never counts.
 * Concurrent callers wait for one build.
 */
export async function ensureGuestKit(options: GuestKitOptions = {}): Promise<GuestKit> {
  checkOptions(options);
  const log = options.log ?? defaultLog;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const jobs = options.jobs ?? availableParallelism();
  const installed = await ensureHostPackages(BUILD_PACKAGES, {
    install: options.installPackages ?? process.getuid?.() === 0,
    log,
  });
  if (installed.length > 0) forgetHostInputs();

  let resolved = await resolveOrUpdate(log);
  const found = await cachedKit(cacheDir, resolved.hash);
  if (found !== undefined) {
    log(`up to date: ${found.dir}`);
    return found;
  }
  return withLock(join(cacheDir, `${kitDirName(resolved.hash)}.lock`), log, async () => {
    const built = await cachedKit(cacheDir, resolved.hash);
    if (built !== undefined) {
      log(`up to date: ${built.dir} (built by another process)`);
      return built;
    }
    const manifestFor = { cmdline: GUEST_KERNEL_CMDLINE, bootMarker: GUEST_BOOT_MARKER };
    try {
      await buildKit({ cacheDir, resolved, jobs, log, ...manifestFor });
    } catch (error) {
      if (!(error instanceof GuestKitError) || error.code !== 'FETCH_FAILED') throw error;
      // The mirror may have moved on to newer versions than our package lists name.
      log(`${error.message}; refreshing the package lists and trying again`);
      await refreshPackageLists();
      const before = resolved.hash;
      resolved = await resolveInputs();
      if (resolved.hash === before) throw error;
      const again = await cachedKit(cacheDir, resolved.hash);
      if (again !== undefined) return again;
      await buildKit({ cacheDir, resolved, jobs, log, ...manifestFor });
    }
    const kit = await cachedKit(cacheDir, resolved.hash);
    if (kit === undefined) throw new Error(`guest kit ${resolved.hash} is incomplete right after its build`);
    return kit;
  });
}

/** The inputs, after one `apt-get update` when the package lists are missing or lack a package. */
async function resolveOrUpdate(log: (line: string) => void): Promise<ResolvedInputs> {
  try {
    return await resolveInputs();
  } catch (error) {
    if (!(error instanceof GuestKitError) || error.code !== 'PACKAGE_UNAVAILABLE') throw error;
    log(`${error.message}; running apt-get update`);
    await refreshPackageLists();
    return resolveInputs();
  }
}

/** `apt-get update`, then forget the versions looked up before it. */
async function refreshPackageLists(): Promise<void> {
  await aptUpdate();
  forgetHostInputs();
}
