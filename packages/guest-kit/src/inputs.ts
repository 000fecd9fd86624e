/**
 * The kit's inputs and their hash: the recipe files kept in this package and
 * the versions of the Debian packages and toolchain the build uses. Two
 * machines with equal hashes build the same kit; any change makes a new one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { candidateOf, type PackageRecord, packagePolicies, resolveMetapackage, showPackages } from './apt.js';
import { GuestKitError } from './error.js';
import { run } from './exec.js';

/** Version of the kit's layout and manifest; bumping it rebuilds every kit. */
export const KIT_FORMAT = 1;

/** This package's root folder (the parent of both `src/` and `dist/`). */
export const PACKAGE_ROOT: string = fileURLToPath(new URL('..', import.meta.url));

/** The recipe files, relative to {@link PACKAGE_ROOT}. */
export const RECIPE = {
  patches: 'patches',
  config: 'config/guest.config',
  init: 'rootfs/init',
  script: 'scripts/build-kit.sh',
} as const;

/** The Debian source of the kit's kernel. */
export const SOURCE_PACKAGE = 'linux-source-6.1';
/** The metapackage naming Debian's current stock kernel image. */
export const IMAGE_METAPACKAGE = 'linux-image-amd64';
/** Installed packages whose versions shape the outputs (besides the two kernels). */
export const OUTPUT_TOOL_PACKAGES = ['busybox-static', 'e2fsprogs'] as const;
/** Every Debian package the build runs. */
export const BUILD_PACKAGES: readonly string[] = [
  'make',
  'gcc',
  'libc6-dev',
  'binutils',
  'flex',
  'bison',
  'bc',
  'perl',
  'libelf-dev',
  'libssl-dev',
  'patch',
  'xz-utils',
  'lz4',
  'cpio',
  'faketime',
  ...OUTPUT_TOOL_PACKAGES,
];

/** Everything the kit is built from, as hashed. */
export interface KitInputs {
  readonly format: number;
  /** Recipe file (relative path) → SHA-256. */
  readonly files: Readonly<Record<string, string>>;
  /** Debian package → version. */
  readonly packages: Readonly<Record<string, string>>;
  /** `cc --version` and `ld --version`, first lines. */
  readonly toolchain: Readonly<Record<string, string>>;
}

/** The kit's inputs, their hash, and the two kernel packages to fetch. */
export interface ResolvedInputs {
  readonly inputs: KitInputs;
  /** SHA-256 of the canonical JSON of `inputs`, hex. */
  readonly hash: string;
  readonly source: PackageRecord;
  readonly image: PackageRecord;
}

/** The recipe's patch files, in the order they are applied. */
export async function patchFiles(): Promise<string[]> {
  const names = (await readdir(join(PACKAGE_ROOT, RECIPE.patches))).filter((name) => name.endsWith('.patch'));
  return names.sort().map((name) => `${RECIPE.patches}/${name}`);
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

async function firstLineOf(file: string, args: readonly string[]): Promise<string> {
  const result = await run(file, args);
  const line = result.stdout.split('\n')[0]?.trim() ?? '';
  if (result.code !== 0 || line === '') {
    throw new GuestKitError(
      'HOST_PACKAGES_MISSING',
      `${file} ${args.join(' ')} failed: is the toolchain installed?`,
    );
  }
  return line;
}

/** The package versions and toolchain part of the inputs (everything but the recipe files). */
interface HostInputs {
  readonly packages: Readonly<Record<string, string>>;
  readonly toolchain: Readonly<Record<string, string>>;
  readonly source: PackageRecord;
  readonly image: PackageRecord;
}

/** One apt lookup per process (each apt-cache call reads ~20 MB of package lists). */
let hostInputs: Promise<HostInputs> | undefined;

/** Forgets the looked-up package versions, after the package lists or installed packages changed. */
export function forgetHostInputs(): void {
  hostInputs = undefined;
}

async function lookUpHostInputs(): Promise<HostInputs> {
  const policies = await packagePolicies([SOURCE_PACKAGE, IMAGE_METAPACKAGE, ...OUTPUT_TOOL_PACKAGES]);
  const [source, meta] = await showPackages([
    { name: SOURCE_PACKAGE, version: candidateOf(policies, SOURCE_PACKAGE) },
    { name: IMAGE_METAPACKAGE, version: candidateOf(policies, IMAGE_METAPACKAGE) },
  ]);
  const image = await resolveMetapackage(meta!);
  const packages: Record<string, string> = { [source!.name]: source!.version, [image.name]: image.version };
  for (const name of OUTPUT_TOOL_PACKAGES) {
    const installed = policies.get(name)?.installed;
    if (installed === undefined) {
      throw new GuestKitError('PACKAGE_UNAVAILABLE', `Debian package ${name} is not installed`);
    }
    packages[name] = installed;
  }
  const toolchain = {
    cc: await firstLineOf('cc', ['--version']),
    ld: await firstLineOf('ld', ['--version']),
  };
  return { packages, toolchain, source: source!, image };
}

/**
 * Reads the recipe and asks apt (locally, no network; once per process, see
 * {@link forgetHostInputs}) for the package versions. PACKAGE_UNAVAILABLE when
 * the package lists lack a kernel package or an output tool is not installed.
 */
export async function resolveInputs(): Promise<ResolvedInputs> {
  const files: Record<string, string> = {};
  for (const file of [...(await patchFiles()), RECIPE.config, RECIPE.init, RECIPE.script]) {
    files[file] = sha256(await readFile(join(PACKAGE_ROOT, file)));
  }
  hostInputs ??= lookUpHostInputs();
  let host: HostInputs;
  try {
    host = await hostInputs;
  } catch (error) {
    hostInputs = undefined;
    throw error;
  }
  const inputs: KitInputs = { format: KIT_FORMAT, files, packages: host.packages, toolchain: host.toolchain };
  return { inputs, hash: sha256(canonicalJson(inputs)), source: host.source, image: host.image };
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
