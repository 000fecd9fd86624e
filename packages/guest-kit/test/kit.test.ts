/**
 * The built kit itself: built (or taken from the cache) once for this file,
 * then every output is checked with the tools a kernel developer would use.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { GuestKitError } from '../src/error.js';
import { ensureGuestKit, findGuestKit, type GuestKit, kitDirName } from '../src/guest-kit.js';
import { GUEST_BOOT_MARKER, GUEST_KERNEL_CMDLINE } from '../src/guest-protocol.js';
import { PACKAGE_ROOT, RECIPE } from '../src/inputs.js';
import { assertKernelConfig } from '../src/kernel-config.js';
import { formatOutputs, MANIFEST_FILE, OUTPUT_FILES, readManifest, verifyKit } from '../src/manifest.js';
import { useTempDir } from './helpers.js';

const exec = promisify(execFile);
const tmp = useTempDir('guest-kit-test-');
let kit: GuestKit;

beforeAll(async () => {
  kit = await ensureGuestKit();
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('the manifest', () => {
  it('lists every output with its real size and SHA-256, under the inputs hash', async () => {
    expect(kit.dir.endsWith(kitDirName(kit.manifest.inputsHash))).toBe(true);
    for (const [name, file] of Object.entries(OUTPUT_FILES)) {
      const output = kit.manifest.outputs[name as keyof typeof OUTPUT_FILES];
      expect(output.path).toBe(file);
      const data = await readFile(join(kit.dir, file));
      expect(output.size, name).toBe(data.length);
      expect(output.sha256, name).toBe(sha256(data));
    }
    expect(await verifyKit(kit.dir, kit.manifest)).toEqual([]);
    expect(kit.manifest.inputs.packages['linux-source-6.1']).toMatch(/^6\.1\./);
    expect(kit.manifest.steps.map((s) => s.name)).toEqual([
      'fetch',
      'debian-kernel',
      'kernel-source',
      'kernel-config',
      'kernel-build',
      'initramfs',
      'rootfs',
    ]);
  });

  it('gives the recommended command line and boot marker, and the API gives absolute paths', () => {
    expect(kit.cmdline).toBe(GUEST_KERNEL_CMDLINE);
    expect(kit.bootMarker).toBe(GUEST_BOOT_MARKER);
    expect(kit.vmlinux).toBe(join(kit.dir, 'vmlinux'));
    expect(kit.initramfs).toBe(join(kit.dir, 'initramfs.cpio'));
    expect(kit.debianBzImage).toBe(join(kit.dir, 'debian-bzImage'));
  });
});

describe('the kernel', () => {
  it('vmlinux is an ELF64 x86-64 executable whose PVH note points at pvh_start_xen', async () => {
    const head = Buffer.alloc(20);
    const data = await readFile(kit.vmlinux);
    data.copy(head, 0, 0, 20);
    expect(head.subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    expect(head[4]).toBe(2); // ELFCLASS64
    expect(head.readUInt16LE(18)).toBe(62); // EM_X86_64
    const { stdout } = await exec('readelf', ['-n', kit.vmlinux]);
    // XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry point of the PVH boot protocol.
    const note =
      /^\s+Xen\s+0x[0-9a-f]+\s+Unknown note type: \(0x00000012\)\n\s+description data: ((?:[0-9a-f]{2} ?)+)/m.exec(
        stdout,
      );
    expect(note, stdout).not.toBeNull();
    const entry = Buffer.from(
      note![1]!
        .trim()
        .split(' ')
        .map((b) => Number.parseInt(b, 16)),
    ).readUInt32LE(0);
    const map = await readFile(kit.systemMap, 'utf8');
    const symbol = /^([0-9a-f]{16}) t pvh_start_xen$/m.exec(map);
    expect(symbol).not.toBeNull();
    expect(BigInt(`0x${symbol![1]}`) - 0xffffffff80000000n).toBe(BigInt(entry));
  });

  it('bzImage follows the x86 boot protocol (HdrS, version ≥ 2.12) and is the same 6.1 kernel', async () => {
    const data = await readFile(kit.bzImage);
    expect(data.toString('latin1', 0x202, 0x206)).toBe('HdrS');
    expect(data.readUInt16LE(0x206)).toBeGreaterThanOrEqual(0x20c);
    const version = data.toString(
      'latin1',
      0x200 + data.readUInt16LE(0x20e),
      0x200 + data.readUInt16LE(0x20e) + 64,
    );
    expect(version).toMatch(/^6\.1\.\d+ \(tsvmm@guest-kit\) #1 SMP 1970-01-01 00:00:00 UTC\0/);
  });

  it("Debian's stock bzImage is a 6.1 Debian kernel with a boot-protocol header", async () => {
    const data = await readFile(kit.debianBzImage);
    expect(data.toString('latin1', 0x202, 0x206)).toBe('HdrS');
    const version = data.toString(
      'latin1',
      0x200 + data.readUInt16LE(0x20e),
      0x200 + data.readUInt16LE(0x20e) + 64,
    );
    expect(version).toMatch(/^6\.1\.0-\d+-amd64 \(debian-kernel@lists\.debian\.org\)/);
  });

  it('its .config has every option the config fragment asks for', async () => {
    const fragment = await readFile(join(PACKAGE_ROOT, RECIPE.config), 'utf8');
    expect(() => assertKernelConfig(fragment, '')).toThrow(GuestKitError);
    assertKernelConfig(fragment, await readFile(kit.kernelConfig, 'utf8'));
  });
});

describe('the root file systems', () => {
  it('the initramfs is an uncompressed newc cpio with /init, busybox, /bin/sh and /dev/console', async () => {
    const data = await readFile(kit.initramfs);
    expect(data.toString('latin1', 0, 6)).toBe('070701');
    const { stdout } = await exec('cpio', ['-itv', '-F', kit.initramfs]);
    expect(stdout).toMatch(/^-rwxr-xr-x .* init$/m);
    expect(stdout).toMatch(/^-rwxr-xr-x .* bin\/busybox$/m);
    expect(stdout).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    expect(stdout).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    const init = await exec('cpio', ['-i', '--to-stdout', '-F', kit.initramfs, 'init'], {
      encoding: 'buffer',
    });
    expect(init.stdout).toEqual(await readFile(join(PACKAGE_ROOT, RECIPE.init)));
  });

  it('the rootfs is a 32 MiB ext4 image holding busybox and the init as /sbin/init', async () => {
    expect((await stat(kit.rootfs)).size).toBe(32 * 2 ** 20);
    const { stdout } = await exec('dumpe2fs', ['-h', kit.rootfs]);
    expect(stdout).toMatch(/^Filesystem magic number:\s+0xEF53$/m);
    expect(stdout).toMatch(/^Filesystem features:.*\bextent\b/m);
    expect(stdout).toMatch(/^Filesystem volume name:\s+tsvmm-root$/m);
    const init = await exec('debugfs', ['-R', 'cat /sbin/init', kit.rootfs], { encoding: 'buffer' });
    expect(init.stdout).toEqual(await readFile(join(PACKAGE_ROOT, RECIPE.init)));
    const busybox = await exec('debugfs', ['-R', 'stat /bin/busybox', kit.rootfs]);
    expect(busybox.stdout).toContain(`Size: ${(await stat('/bin/busybox')).size}`);
  });
});

describe('the cache', () => {
  it('a second run with unchanged inputs does nothing but say so', async () => {
    const before = await stat(join(kit.dir, MANIFEST_FILE));
    const lines: string[] = [];
    const again = await ensureGuestKit({ log: (line) => lines.push(line) });
    expect(lines).toEqual([`up to date: ${kit.dir}`]);
    expect(again.manifest).toEqual(kit.manifest);
    const after = await stat(join(kit.dir, MANIFEST_FILE));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('the CLI says it is up to date and lists the outputs with sizes and hashes', async () => {
    const cli = join(PACKAGE_ROOT, 'dist', 'cli.js');
    const { stdout, stderr } = await exec('node', [cli]);
    expect(stderr).toBe(`guest-kit: up to date: ${kit.dir}\n`);
    expect(stdout).toBe(`${kit.dir}\n${formatOutputs(kit.manifest)}\n`);
    const rows = stdout.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(Object.keys(OUTPUT_FILES).length);
    for (const [name, output] of Object.entries(kit.manifest.outputs)) {
      const size = output.size.toLocaleString('en-US');
      expect(rows).toContainEqual(
        expect.stringMatching(new RegExp(`^${name} +${output.path} +${size} +${output.sha256}$`)),
      );
    }
  });

  it('findGuestKit finds the same kit, and nothing in an empty cache', async () => {
    expect((await findGuestKit())?.dir).toBe(kit.dir);
    expect(await findGuestKit({ cacheDir: join(tmp.path, 'empty') })).toBeUndefined();
  });

  it('a kit with a missing or truncated output, or of other inputs, does not count', async () => {
    const dir = join(tmp.path, 'copy');
    await mkdir(dir);
    for (const file of Object.values(OUTPUT_FILES)) await copyFile(join(kit.dir, file), join(dir, file));
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(kit.manifest));
    const hash = kit.manifest.inputsHash;
    expect(await readManifest(dir, hash)).toEqual(kit.manifest);
    expect(await readManifest(dir, '0'.repeat(64))).toBeUndefined();
    await truncate(join(dir, OUTPUT_FILES.kernelConfig), 100);
    expect(await readManifest(dir, hash)).toBeUndefined();
    expect((await verifyKit(dir, kit.manifest)).map((m) => m.name)).toEqual(['kernelConfig']);
    await rm(join(dir, OUTPUT_FILES.rootfs));
    const truncated = await readFile(join(dir, OUTPUT_FILES.kernelConfig));
    // In OUTPUT_FILES order.
    expect((await verifyKit(dir, kit.manifest)).map((m) => [m.name, m.actual])).toEqual([
      ['rootfs', undefined],
      ['kernelConfig', { size: 100, sha256: sha256(truncated) }],
    ]);
    await writeFile(join(dir, MANIFEST_FILE), '{"inputsHash":');
    expect(await readManifest(dir, hash)).toBeUndefined();
  });
});
