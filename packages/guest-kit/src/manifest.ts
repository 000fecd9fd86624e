/**
 * manifest.json: what a built kit holds (each output's path, size and
 * SHA-256), what it was built from, and how long each step took.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from './digest.js';
import type { KitInputs } from './inputs.js';

/** The kit's output files, by role. */
export const OUTPUT_FILES = {
  /** The kit's kernel as an ELF with a PVH note (boot it directly at its PVH entry). */
  vmlinux: 'vmlinux',
  /** The same kernel as a bzImage (Linux x86 boot protocol, lz4-compressed). */
  bzImage: 'bzImage',
  /** Uncompressed newc cpio: /init, /bin/busybox, /bin/sh, /dev/console. */
  initramfs: 'initramfs.cpio',
  /** 32 MiB ext4 image of the same busybox root, /sbin/init being the kit's init. */
  rootfs: 'rootfs.ext4',
  /** Debian's stock kernel (virtio as modules, no virtio-mmio command-line devices), for loader tests. */
  debianBzImage: 'debian-bzImage',
  /** The kernel's final .config. */
  kernelConfig: 'kernel.config',
  /** The kernel's symbol map, for reading addresses in oopses and traces. */
  systemMap: 'System.map',
} as const;

/** One output's role. */
export type GuestKitOutputName = keyof typeof OUTPUT_FILES;

/** One output file of the kit. */
export interface GuestKitOutput {
  /** Relative to the kit's folder. */
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the file, hex. */
  readonly sha256: string;
}

/** How long one build step took. */
export interface GuestKitStep {
  readonly name: string;
  readonly seconds: number;
}

/** The contents of a kit's manifest.json. */
export interface GuestKitManifest {
  readonly format: number;
  /** SHA-256 of the canonical JSON of `inputs`; the kit's folder is named by its first 16 digits. */
  readonly inputsHash: string;
  readonly inputs: KitInputs;
  /** The recommended kernel command line for this kit's kernel. */
  readonly cmdline: string;
  /** The line the kit's /init prints once user space is up. */
  readonly bootMarker: string;
  readonly outputs: Readonly<Record<GuestKitOutputName, GuestKitOutput>>;
  readonly steps: readonly GuestKitStep[];
  /** When the build finished (ISO 8601). */
  readonly builtAt: string;
}

/** The manifest's file name inside a kit's folder. */
export const MANIFEST_FILE = 'manifest.json';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isOutput(v: unknown): v is GuestKitOutput {
  return (
    isRecord(v) &&
    typeof v.path === 'string' &&
    typeof v.size === 'number' &&
    typeof v.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(v.sha256)
  );
}

/**
 * The manifest of the kit in `dir` if it is complete: well-formed, for
 * `inputsHash`, with every output present at its recorded size. Anything
 * else (no folder, a damaged or older manifest, a missing or truncated file)
 * gives undefined. Checksums are not recomputed here (see {@link verifyKit}).
 */
export async function readManifest(dir: string, inputsHash: string): Promise<GuestKitManifest | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed.inputsHash !== inputsHash || !isRecord(parsed.outputs)) return undefined;
  const outputs = parsed.outputs;
  for (const name of Object.keys(OUTPUT_FILES)) {
    const output = outputs[name];
    if (!isOutput(output)) return undefined;
    try {
      if ((await stat(join(dir, output.path))).size !== output.size) return undefined;
    } catch {
      return undefined;
    }
  }
  return parsed as unknown as GuestKitManifest;
}

/** An output whose file no longer matches the manifest. */
export interface OutputMismatch {
  readonly name: GuestKitOutputName;
  readonly expected: GuestKitOutput;
  /** Size and SHA-256 now, or undefined when the file is gone. */
  readonly actual: { readonly size: number; readonly sha256: string } | undefined;
}

/** Recomputes every output's size and SHA-256; returns the ones that differ from the manifest. */
export async function verifyKit(dir: string, manifest: GuestKitManifest): Promise<OutputMismatch[]> {
  const mismatches: OutputMismatch[] = [];
  for (const name of Object.keys(OUTPUT_FILES) as GuestKitOutputName[]) {
    const expected = manifest.outputs[name];
    const path = join(dir, expected.path);
    let actual: OutputMismatch['actual'];
    try {
      actual = { size: (await stat(path)).size, sha256: await sha256File(path) };
    } catch {
      actual = undefined;
    }
    if (actual === undefined || actual.size !== expected.size || actual.sha256 !== expected.sha256) {
      mismatches.push({ name, expected, actual });
    }
  }
  return mismatches;
}

/** The kit's outputs as a text table: role, file, size, SHA-256. */
export function formatOutputs(manifest: GuestKitManifest): string {
  const rows = (Object.keys(OUTPUT_FILES) as GuestKitOutputName[]).map((name) => {
    const output = manifest.outputs[name];
    return [name, output.path, output.size.toLocaleString('en-US'), output.sha256];
  });
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}
