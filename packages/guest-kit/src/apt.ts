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

const unavailable = (name: string): GuestKitError =>
  new GuestKitError(
    'PACKAGE_UNAVAILABLE',
    `Debian package ${name} has no installable version in the package lists (is this Debian 12, and has apt-get update run?)`,
  );

/** The version apt would install of `name` in `policies`; PACKAGE_UNAVAILABLE when it has none. */
export function candidateOf(policies: ReadonlyMap<string, PackagePolicy>, name: string): string {
  const version = policies.get(name)?.candidate;
  if (version === undefined) throw unavailable(name);
  return version;
}

/** The version apt would install of `name`; PACKAGE_UNAVAILABLE when it has none. */
export async function candidateVersion(name: string): Promise<string> {
  return candidateOf(await packagePolicies([name]), name);
}

/** A package at one version, with the checksum the package lists give for its .deb. */
export interface PackageRecord {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly depends: string;
}

/** A package name and version to look up with {@link showPackages}. */
export interface PackageSpec {
  readonly name: string;
  readonly version: string;
}

/** Parses `apt-cache show` output: one record per stanza that has a Package, Version and SHA256. */
export function parseAptShow(text: string): PackageRecord[] {
  const records: PackageRecord[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (key: string): string | undefined =>
      new RegExp(`^${key}: (.*)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    const sha256 = field('SHA256');
    if (name === undefined || version === undefined || sha256 === undefined) continue;
    records.push({ name, version, sha256, depends: field('Depends') ?? '' });
  }
  return records;
}

/**
 * `apt-cache show NAME=VERSION...` in one call: the records of `specs`, in
 * their order; PACKAGE_UNAVAILABLE naming the first one the lists lack.
 */
export async function showPackages(specs: readonly PackageSpec[]): Promise<PackageRecord[]> {
  const result = await run('apt-cache', [
    'show',
    '--no-all-versions',
    ...specs.map((s) => `${s.name}=${s.version}`),
  ]);
  const records = parseAptShow(result.stdout);
  return specs.map((spec) => {
    const record = records.find((r) => r.name === spec.name && r.version === spec.version);
    if (record === undefined) {
      throw new GuestKitError(
        'PACKAGE_UNAVAILABLE',
        `Debian package ${spec.name}=${spec.version} is not in the package lists: ${lastLine(result.stderr) || 'no record'}`,
      );
    }
    return record;
  });
}

/**
 * The package a metapackage such as `linux-image-amd64` stands for: its
 * first dependency, at the version the metapackage pins (or the candidate).
 */
export async function resolveMetapackage(meta: PackageRecord): Promise<PackageRecord> {
  const first = /^([a-z0-9][a-z0-9+.-]*)(?: \(= ([^)]+)\))?/.exec(meta.depends.split(',')[0]?.trim() ?? '');
  if (first === null) {
    throw new GuestKitError(
      'PACKAGE_UNAVAILABLE',
      `Debian package ${meta.name} depends on no package (${meta.depends})`,
    );
  }
  const name = first[1]!;
  const [record] = await showPackages([{ name, version: first[2] ?? (await candidateVersion(name)) }]);
  return record!;
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
 * ones with `apt-get install` (running `apt-get update` first) and returns
 * their names, or, when `install` is false, fails with HOST_PACKAGES_MISSING
 * naming the command to run.
 */
export async function ensureHostPackages(
  names: readonly string[],
  options: EnsureHostPackagesOptions,
): Promise<string[]> {
  const missing = await missingPackages(names);
  if (missing.length === 0) return missing;
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
  return missing;
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
