/**
 * One build of the kit: fetch the two kernel packages, run the recipe's
 * phases (scripts/build-kit.sh) in a private folder, check the kernel config,
 * write the manifest, and rename the finished folder into the cache.
 */
import { mkdir, readdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchDeb } from './apt.js';
import { sha256File } from './digest.js';
import { GuestKitError } from './error.js';
import { PACKAGE_ROOT, RECIPE, type ResolvedInputs } from './inputs.js';
import { assertKernelConfig } from './kernel-config.js';
import { processAlive } from './lock.js';
import {
  type GuestKitManifest,
  type GuestKitOutput,
  type GuestKitOutputName,
  type GuestKitStep,
  MANIFEST_FILE,
  OUTPUT_FILES,
} from './manifest.js';
import { runPhase } from './phase.js';

/** Free space a build needs next to the cache: the kernel tree and its objects. */
export const BUILD_SPACE_BYTES = 3 * 2 ** 30;
/** Free space the two kernel .debs need in the download cache. */
export const DOWNLOAD_SPACE_BYTES = 512 * 2 ** 20;

/** What {@link buildKit} needs. */
export interface BuildKitOptions {
  readonly cacheDir: string;
  readonly resolved: ResolvedInputs;
  readonly jobs: number;
  readonly log: (line: string) => void;
  readonly cmdline: string;
  readonly bootMarker: string;
}

/** Fails with DISK_FULL, before any work, when the file system of `dir` has less than `bytes` free. */
export async function checkFreeSpace(dir: string, bytes: number, purpose: string): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    const gib = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GiB`;
    throw new GuestKitError(
      'DISK_FULL',
      `not enough disk space for ${purpose}: ${gib(free)} free in ${dir}, ${gib(bytes)} needed`,
    );
  }
}

/**
 * Removes what builds killed midway left behind: their folders
 * (`.build-<hash>-<pid>`) and the locks of other kits (`<hash>.lock/pid`)
 * whose process no longer runs.
 */
export async function removeStaleBuilds(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const build = /^\.build-[0-9a-f]+-(\d+)$/.exec(name);
    let pid = build === null ? undefined : Number(build[1]);
    if (name.endsWith('.lock')) {
      pid = Number.parseInt(await readFile(join(cacheDir, name, 'pid'), 'utf8').catch(() => ''), 10);
      if (Number.isNaN(pid)) continue;
    }
    if (pid !== undefined && pid !== process.pid && !processAlive(pid)) {
      await rm(join(cacheDir, name), { recursive: true, force: true });
    }
  }
}

/** Counts the kernel build's compiled files in its log, for the heartbeat line. */
const compiledFiles = (logText: string): string =>
  `${logText.match(/^ {2}CC /gm)?.length ?? 0} files compiled`;

/** Builds the kit for `resolved` into `<cacheDir>/<hash16>`; see the module comment. */
export async function buildKit(options: BuildKitOptions): Promise<void> {
  const { cacheDir, resolved, log } = options;
  const hash16 = resolved.hash.slice(0, 16);
  await mkdir(cacheDir, { recursive: true });
  await removeStaleBuilds(cacheDir);
  const build = join(cacheDir, `.build-${hash16}-${process.pid}`);
  const out = join(build, 'out');
  const work = join(build, 'work');
  const logs = join(out, 'logs');
  await mkdir(logs, { recursive: true });
  await mkdir(work);
  log(`building the guest kit ${hash16} in ${build}`);
  const steps: GuestKitStep[] = [];
  const started = performance.now();

  try {
    const downloads = join(cacheDir, 'downloads');
    await mkdir(downloads, { recursive: true });
    await checkFreeSpace(downloads, DOWNLOAD_SPACE_BYTES, 'the Debian kernel packages');
    const fetchStart = performance.now();
    log(
      `fetching ${resolved.source.name} ${resolved.source.version} and ${resolved.image.name} ${resolved.image.version} ...`,
    );
    const sourceDeb = await fetchDeb(resolved.source, downloads);
    const imageDeb = await fetchDeb(resolved.image, downloads);
    steps.push({ name: 'fetch', seconds: round((performance.now() - fetchStart) / 1000) });
    log(`fetched in ${steps[0]!.seconds} s`);
    await checkFreeSpace(build, BUILD_SPACE_BYTES, 'the kernel build');

    const env = {
      ...process.env,
      KIT_WORK: work,
      KIT_OUT: out,
      KIT_SRC_DEB: sourceDeb,
      KIT_IMAGE_DEB: imageDeb,
      KIT_PATCHES: join(PACKAGE_ROOT, RECIPE.patches),
      KIT_CONFIG: join(PACKAGE_ROOT, RECIPE.config),
      KIT_INIT: join(PACKAGE_ROOT, RECIPE.init),
      KIT_JOBS: String(options.jobs),
    };
    const phase = async (
      name: string,
      title: string,
      extra: { describe?: (text: string) => string } = {},
    ) => {
      const seconds = await runPhase({
        title: `${title}`,
        file: 'bash',
        args: [join(PACKAGE_ROOT, RECIPE.script), name],
        env,
        logFile: join(logs, `${name}.log`),
        log,
        ...extra,
      });
      steps.push({ name, seconds: round(seconds) });
    };
    await phase('debian-kernel', `Debian kernel (${resolved.image.name})`);
    await phase('kernel-source', `kernel source (extract ${resolved.source.name}, apply patches)`);
    await phase('kernel-config', 'kernel config (tinyconfig + config/guest.config, olddefconfig)');
    assertKernelConfig(
      await readFile(join(PACKAGE_ROOT, RECIPE.config), 'utf8'),
      await readFile(join(out, OUTPUT_FILES.kernelConfig), 'utf8'),
    );
    await phase('kernel-build', `kernel build (make -j${options.jobs} vmlinux bzImage)`, {
      describe: compiledFiles,
    });
    await phase('initramfs', 'initramfs (busybox, uncompressed newc cpio)');
    await phase('rootfs', 'rootfs (32 MiB ext4, mkfs.ext4 -d)');

    const outputs = {} as Record<GuestKitOutputName, GuestKitOutput>;
    for (const [name, path] of Object.entries(OUTPUT_FILES) as [GuestKitOutputName, string][]) {
      outputs[name] = {
        path,
        size: (await stat(join(out, path))).size,
        sha256: await sha256File(join(out, path)),
      };
    }
    const manifest: GuestKitManifest = {
      format: resolved.inputs.format,
      inputsHash: resolved.hash,
      inputs: resolved.inputs,
      cmdline: options.cmdline,
      bootMarker: options.bootMarker,
      outputs,
      steps,
      builtAt: new Date().toISOString(),
    };
    await writeFile(join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(work, { recursive: true, force: true });
    const dest = join(cacheDir, hash16);
    // A damaged kit of the same inputs (readManifest said no) is replaced.
    await rm(dest, { recursive: true, force: true });
    await rename(out, dest);
    await rm(build, { recursive: true, force: true });
    log(`built ${dest} in ${round((performance.now() - started) / 1000)} s`);
  } catch (error) {
    // Keep the logs for the message's sake; the kernel tree goes now.
    await rm(work, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new GuestKitError('DISK_FULL', `no space left on device while building in ${build}`, {
        cause: error,
      });
    }
    throw error;
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;
