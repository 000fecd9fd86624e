/**
 * The Debian side of the kit: which package versions apt would use, installing
 * build tools, and fetching .deb files into the download cache.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from './digest.js';
import { GuestKitError } from './error.js';
import { lastLine, run } from './exec.js';

/** A Debian package's installed and candidate versions, as `apt-cache policy` reports them. */
export interface PackagePolicy {
  readonly installed: string | undefined;
  readonly candidate: string | undefined;
}

/** Parses `apt-cache policy NAME...` output; packages apt does not know are absent from the map. */
export function parseAptPolicy(text: string): Map<string, PackagePolicy> {
  const result = new Map<string, PackagePolicy>();
  let name: string | undefined;
  let installed: string | undefined;
  let candidate: string | undefined;
  const flush = (): void => {
    if (name !== undefined) result.set(name, { installed, candidate });
  };
  for (const line of text.split('\n')) {
    const header = /^(\S+):$/.exec(line);
    if (header !== null) {
      flush();
      name = header[1];
      installed = undefined;
      candidate = undefined;
      continue;
    }
    const field = /^ {2}(Installed|Candidate): (\S+)$/.exec(line);
    if (field === null || name === undefined) continue;
    const value = field[2] === '(none)' ? undefined : field[2];
    if (field[1] === 'Installed') installed = value;
    else candidate = value;
  }
  flush();
  return result;
}

/** The installed and candidate versions of `names`, from the local package lists (no network). */
export async function packagePolicies(names: readonly string[]): Promise<Map<string, PackagePolicy>> {
  const result = await run('apt-cache', ['policy', ...names]);
  if (result.code !== 0) {
    throw new GuestKitError('PACKAGE_UNAVAILABLE', `apt-cache policy failed: ${lastLine(result.stderr)}`);
  }
  return parseAptPolicy(result.stdout);
}

/** The version apt would install of `name`; PACKAGE_UNAVAILABLE when it has none. */
export async function candidateVersion(name: string): Promise<string> {
  const version = (await packagePolicies([name])).get(name)?.candidate;
  if (version === undefined) {
    throw new GuestKitError(
      'PACKAGE_UNAVAILABLE',
      `Debian package ${name} has no installable version in the package lists (is this Debian 12, and has apt-get update run?)`,
    );
  }
  return version;
}

/** A package at one version, with the checksum the package lists give for its .deb. */
export interface PackageRecord {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly depends: string;
}

/** `apt-cache show NAME=VERSION`: the fields the kit uses. */
export async function showPackage(name: string, version: string): Promise<PackageRecord> {
  const result = await run('apt-cache', ['show', '--no-all-versions', `${name}=${version}`]);
  const field = (key: string): string | undefined =>
    new RegExp(`^${key}: (.*)$`, 'm').exec(result.stdout)?.[1]?.trim();
  const sha256 = field('SHA256');
  if (result.code !== 0 || sha256 === undefined) {
    throw new GuestKitError(
      'PACKAGE_UNAVAILABLE',
      `Debian package ${name}=${version} is not in the package lists: ${lastLine(result.stderr) || 'no record'}`,
    );
  }
  return { name, version, sha256, depends: field('Depends') ?? '' };
}

/**
 * The package behind a metapackage such as `linux-image-amd64`: its first
 * dependency, with the exact version when the metapackage pins one.
 */
export async function resolveMetapackage(name: string): Promise<PackageRecord> {
  const meta = await showPackage(name, await candidateVersion(name));
  const first = /^([a-z0-9][a-z0-9+.-]*)(?: \(= ([^)]+)\))?/.exec(meta.depends.split(',')[0]?.trim() ?? '');
  if (first === null) {
    throw new GuestKitError(
      'PACKAGE_UNAVAILABLE',
      `Debian package ${name} depends on no package (${meta.depends})`,
    );
  }
  const target = first[1]!;
  return showPackage(target, first[2] ?? (await candidateVersion(target)));
}

/** Refreshes the package lists (`apt-get update`); FETCH_FAILED when that fails. */
export async function aptUpdate(): Promise<void> {
  const result = await run('apt-get', ['update', '-qq']);
  if (result.code !== 0) {
    throw new GuestKitError('FETCH_FAILED', `apt-get update failed: ${lastLine(result.stderr)}`);
  }
}

/** Options of {@link ensureHostPackages}. */
export interface EnsureHostPackagesOptions {
  /** Install the missing packages with apt-get (needs root); otherwise only report them. */
  readonly install: boolean;
  readonly log: (line: string) => void;
}

/** The subset of `names` that dpkg does not list as installed. */
export async function missingPackages(names: readonly string[]): Promise<string[]> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a JS template
  const result = await run('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...names]);
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((line) => line.endsWith(' install ok installed'))
      .map((line) => line.split(' ')[0]!.split(':')[0]!),
  );
  return names.filter((name) => !installed.has(name));
}

/**
 * Makes sure the Debian packages `names` are installed: installs the missing
 * ones with `apt-get install` (running `apt-get update` first), or, when
 * `install` is false, fails with HOST_PACKAGES_MISSING naming the command to run.
 */
export async function ensureHostPackages(
  names: readonly string[],
  options: EnsureHostPackagesOptions,
): Promise<void> {
  const missing = await missingPackages(names);
  if (missing.length === 0) return;
  if (!options.install) {
    throw new GuestKitError(
      'HOST_PACKAGES_MISSING',
      `the guest kit needs these Debian packages: ${missing.join(' ')} (run: sudo apt-get install ${missing.join(' ')})`,
    );
  }
  options.log(`installing Debian packages: ${missing.join(' ')}`);
  await aptUpdate();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const result = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env,
  });
  if (result.code !== 0) {
    throw new GuestKitError(
      'FETCH_FAILED',
      `apt-get install ${missing.join(' ')} failed: ${lastLine(result.stderr)}`,
    );
  }
}

/** The file name `apt-get download` gives a package (an epoch's colon becomes `%3a`). */
export function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

/**
 * The .deb of `record` in the download cache `dir`, fetched with
 * `apt-get download` unless a copy with the right checksum is already there.
 * Downloads land in a private folder first, so an interrupted fetch leaves no
 * partial .deb behind. FETCH_FAILED when apt cannot fetch it or the checksum
 * does not match the package lists.
 */
export async function fetchDeb(record: PackageRecord, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const prefix = debFileName(record.name, record.version, '').slice(0, -'.deb'.length);
  const cached = (await readdir(dir)).find((file) => file.startsWith(prefix) && file.endsWith('.deb'));
  if (cached !== undefined && (await sha256File(join(dir, cached))) === record.sha256)
    return join(dir, cached);

  const scratch = join(dir, `.download-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch);
  try {
    // apt-get download saves into the current directory.
    const result = await run('apt-get', ['download', '-q', `${record.name}=${record.version}`], {
      cwd: scratch,
    });
    const fetched = (await readdir(scratch)).find((file) => file.endsWith('.deb'));
    if (result.code !== 0 || fetched === undefined) {
      throw new GuestKitError(
        'FETCH_FAILED',
        `could not fetch Debian package ${record.name}=${record.version}: ${lastLine(result.stderr) || 'apt-get download wrote no file'}`,
      );
    }
    const actual = await sha256File(join(scratch, fetched));
    if (actual !== record.sha256) {
      throw new GuestKitError(
        'FETCH_FAILED',
        `Debian package ${record.name}=${record.version} has SHA-256 ${actual}, the package lists say ${record.sha256}`,
      );
    }
    if (cached !== undefined) await rm(join(dir, cached), { force: true });
    await rename(join(scratch, fetched), join(dir, fetched));
    return join(dir, fetched);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
