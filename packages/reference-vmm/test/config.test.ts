import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CMDLINE,
  DEFAULT_MEMORY_MIB,
  DEFAULT_VCPUS,
  finalizeConfig,
  maxMemoryMiB,
  parseCommandLine,
  parseFirecrackerConfig,
} from '../src/config.js';
import { VmmError } from '../src/errors.js';

let dir: string;
let kernel: string;
let initrd: string;
let disk: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsvmm-config-'));
  kernel = join(dir, 'vmlinux');
  initrd = join(dir, 'initrd');
  disk = join(dir, 'disk.img');
  writeFileSync(kernel, 'not really a kernel, but a readable file');
  writeFileSync(initrd, 'initrd');
  writeFileSync(disk, Buffer.alloc(4096));
});

function errorOf(fn: () => unknown): VmmError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VmmError);
    return e as VmmError;
  }
  throw new Error('expected a VmmError');
}

const run = (argv: string[]) => {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.config;
};

describe('command line flags', () => {
  it('fill in the documented defaults', () => {
    const config = run(['--kernel', kernel]);
    expect(config).toEqual({
      kernel,
      cmdline: DEFAULT_CMDLINE,
      memoryMiB: DEFAULT_MEMORY_MIB,
      vcpus: DEFAULT_VCPUS,
      boot: 'auto',
      drives: [],
      net: [],
      rng: false,
    });
    expect(DEFAULT_CMDLINE).toContain('console=ttyS0');
    expect(DEFAULT_CMDLINE).toContain('reboot=k');
  });

  it('take every setting', () => {
    const config = run([
      '--kernel',
      kernel,
      '--initrd',
      initrd,
      '--cmdline',
      'console=ttyS0 root=/dev/vda',
      '--memory',
      '256',
      '--vcpus',
      '2',
      '--boot',
      'pvh',
      '--disk',
      `${disk},ro,id=serial-1`,
      '--net',
      'tap=tap0,mac=02:00:00:00:00:01',
      '--rng',
    ]);
    expect(config).toMatchObject({
      initrd,
      cmdline: 'console=ttyS0 root=/dev/vda',
      memoryMiB: 256,
      vcpus: 2,
      boot: 'pvh',
      drives: [{ id: 'disk0', path: disk, readOnly: true, isRootDevice: false, serial: 'serial-1' }],
      net: [{ id: 'net0', tap: 'tap0', mac: '02:00:00:00:00:01' }],
      rng: true,
    });
    expect(run(['--kernel', kernel, '--net', 'tap=tsvmm0,create']).net).toEqual([
      { id: 'net0', tap: 'tsvmm0', create: true },
    ]);
  });

  it('print help and the default command line', () => {
    expect(parseCommandLine(['--help'])).toMatchObject({
      kind: 'print',
      text: expect.stringContaining('usage: reference-vmm'),
    });
    expect(parseCommandLine(['--help-cmdline'])).toEqual({ kind: 'print', text: DEFAULT_CMDLINE });
  });

  it.each([
    [['--kernel', 'k', '--bogus'], /Unknown option '--bogus'/],
    [['--kernel'], /argument missing/],
    [['stray'], /unexpected argument "stray"/],
    [[], /a kernel is required/],
    [['--kernel', 'k', '--disk', ''], /--disk needs a path/],
    [['--kernel', 'k', '--disk', 'x,rw'], /unknown option "rw"/],
    [['--kernel', 'k', '--net', 'mac=02:00:00:00:00:01'], /--net needs tap=<name>/],
    [['--kernel', 'k', '--net', 'tap=t,speed=10'], /unknown or empty option "speed=10"/],
  ])('refuse bad usage %j', (argv, message) => {
    const err = errorOf(() => parseCommandLine(argv));
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(message);
  });

  it.each([
    [['--memory', '0'], /--memory must be between 16 and/],
    [['--memory', '4.5'], /--memory must be a whole number/],
    [['--memory', String(maxMemoryMiB() + 1)], /--memory must be between/],
    [['--vcpus', '0'], /--vcpus must be between 1 and 254/],
    [['--vcpus', '100000'], /--vcpus must be between 1 and 254/],
    [['--boot', 'uefi'], /boot protocol must be one of auto, elf, bzimage, pvh/],
    [['--net', 'tap=has space'], /TAP name/],
    [['--net', 'tap=t0,mac=01:00:00:00:00:01'], /multicast/],
    [['--net', 'tap=t0,mac=zz'], /is not a MAC address/],
  ])('refuse absurd values %j', (extra, message) => {
    const err = errorOf(() => parseCommandLine(['--kernel', kernel, ...extra]));
    expect(err.code).toBe('CONFIG_VALUE');
    expect(err.message).toMatch(message);
  });
});

describe('files are checked before a VM exists', () => {
  it('a missing kernel', () => {
    const err = errorOf(() => parseCommandLine(['--kernel', join(dir, 'nope')]));
    expect(err.code).toBe('KERNEL');
    expect(err.message).toMatch(/does not exist/);
  });

  it('an unreadable kernel', () => {
    if (process.getuid?.() === 0) {
      // root reads everything; a directory is what root cannot boot either
      const err = errorOf(() => parseCommandLine(['--kernel', dir]));
      expect(err.code).toBe('KERNEL');
      expect(err.message).toMatch(/not a regular file/);
      return;
    }
    const locked = join(dir, 'locked');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0);
    expect(errorOf(() => parseCommandLine(['--kernel', locked])).message).toMatch(/cannot be read/);
  });

  it('an empty kernel, a missing initrd, a missing disk', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(errorOf(() => parseCommandLine(['--kernel', empty]))).toMatchObject({
      code: 'KERNEL',
      message: expect.stringMatching(/is empty/),
    });
    expect(errorOf(() => parseCommandLine(['--kernel', kernel, '--initrd', join(dir, 'x')])).code).toBe(
      'INITRD',
    );
    expect(errorOf(() => parseCommandLine(['--kernel', kernel, '--disk', join(dir, 'x')])).code).toBe('DISK');
  });

  it('duplicate ids and two root devices', () => {
    expect(() =>
      finalizeConfig({
        kernel,
        drives: [
          { id: 'a', path: disk, readOnly: true, isRootDevice: true },
          { id: 'a', path: disk, readOnly: true, isRootDevice: false },
        ],
      }),
    ).toThrow(/used twice/);
    expect(() =>
      finalizeConfig({
        kernel,
        drives: [
          { id: 'a', path: disk, readOnly: true, isRootDevice: true },
          { id: 'b', path: disk, readOnly: true, isRootDevice: true },
        ],
      }),
    ).toThrow(/only one drive can be the root device/);
    expect(() =>
      finalizeConfig({
        kernel,
        drives: [{ id: 'a', path: disk, readOnly: true, isRootDevice: false, serial: 'x'.repeat(21) }],
      }),
    ).toThrow(/20 bytes/);
  });
});

describe('Firecracker config files', () => {
  const firecracker = () => ({
    'boot-source': {
      kernel_image_path: kernel,
      boot_args: 'console=ttyS0 reboot=k panic=1',
      initrd_path: initrd,
    },
    'machine-config': { vcpu_count: 2, mem_size_mib: 512, smt: false, track_dirty_pages: false },
    drives: [{ drive_id: 'rootfs', path_on_host: disk, is_root_device: true, is_read_only: false }],
    'network-interfaces': [{ iface_id: 'eth0', guest_mac: 'AA:FC:00:00:00:01', host_dev_name: 'tap0' }],
    entropy: {},
  });

  it('carry over as written for Firecracker', () => {
    const file = join(dir, 'vm.json');
    writeFileSync(file, JSON.stringify(firecracker()));
    expect(run(['--config', file])).toEqual({
      kernel,
      initrd,
      cmdline: 'console=ttyS0 reboot=k panic=1',
      memoryMiB: 512,
      vcpus: 2,
      boot: 'auto',
      drives: [{ id: 'rootfs', path: disk, readOnly: false, isRootDevice: true }],
      net: [{ id: 'eth0', tap: 'tap0', mac: 'aa:fc:00:00:00:01' }],
      rng: true,
    });
  });

  it('are overridden by flags', () => {
    const file = join(dir, 'vm2.json');
    writeFileSync(file, JSON.stringify(firecracker()));
    expect(run(['--config', file, '--vcpus', '1', '--memory', '64'])).toMatchObject({
      vcpus: 1,
      memoryMiB: 64,
    });
  });

  it('refuse bad JSON, unknown keys, wrong types and what is not implemented', () => {
    expect(errorOf(() => parseFirecrackerConfig('{"boot-source": '))).toMatchObject({ code: 'CONFIG_JSON' });
    expect(errorOf(() => parseFirecrackerConfig('[]'))).toMatchObject({ code: 'CONFIG_TYPE' });
    expect(errorOf(() => parseFirecrackerConfig('{"boot-sauce": {}}'))).toMatchObject({
      code: 'CONFIG_UNKNOWN_KEY',
      message: expect.stringMatching(/boot-sauce/),
    });
    expect(errorOf(() => parseFirecrackerConfig('{"machine-config": {"vcpu_count": "two"}}'))).toMatchObject({
      code: 'CONFIG_VALUE',
    });
    expect(errorOf(() => parseFirecrackerConfig('{"machine-config": {"mem_size_mib": 1}}'))).toMatchObject({
      code: 'CONFIG_VALUE',
    });
    expect(errorOf(() => parseFirecrackerConfig('{"machine-config": {"smt": true}}'))).toMatchObject({
      code: 'CONFIG_UNSUPPORTED',
    });
    expect(errorOf(() => parseFirecrackerConfig('{"machine-config": {"cpu_template": "T2"}}'))).toMatchObject(
      { code: 'CONFIG_UNSUPPORTED' },
    );
    expect(errorOf(() => parseFirecrackerConfig('{"boot-source": {}}'))).toMatchObject({
      code: 'CONFIG_VALUE',
      message: expect.stringMatching(/kernel_image_path is required/),
    });
    expect(errorOf(() => parseFirecrackerConfig('{"boot-source": {"kernel_image_path": 3}}'))).toMatchObject({
      code: 'CONFIG_TYPE',
    });
    expect(errorOf(() => parseFirecrackerConfig('{"drives": {}}'))).toMatchObject({ code: 'CONFIG_TYPE' });
    expect(
      errorOf(() =>
        parseFirecrackerConfig('{"drives": [{"drive_id": "a", "path_on_host": "p", "is_read_only": "yes"}]}'),
      ),
    ).toMatchObject({ code: 'CONFIG_TYPE' });
    expect(
      errorOf(() =>
        parseFirecrackerConfig('{"drives": [{"drive_id": "a", "path_on_host": "p", "rate_limiter": {}}]}'),
      ),
    ).toMatchObject({ code: 'CONFIG_UNSUPPORTED' });
    expect(
      errorOf(() =>
        parseFirecrackerConfig('{"drives": [{"drive_id": "a", "path_on_host": "p", "io_engine": "Async"}]}'),
      ),
    ).toMatchObject({ code: 'CONFIG_UNSUPPORTED' });
    expect(
      errorOf(() =>
        parseFirecrackerConfig('{"drives": [{"drive_id": "a", "path_on_host": "p", "cache_type": "Fast"}]}'),
      ),
    ).toMatchObject({ code: 'CONFIG_VALUE' });
    expect(
      errorOf(() => parseFirecrackerConfig('{"network-interfaces": [{"iface_id": "e"}]}')),
    ).toMatchObject({ code: 'CONFIG_VALUE' });
    expect(errorOf(() => parseFirecrackerConfig('{"network-interfaces": 1}'))).toMatchObject({
      code: 'CONFIG_TYPE',
    });
    expect(errorOf(() => parseFirecrackerConfig('{"entropy": {"rate_limiter": {}}}'))).toMatchObject({
      code: 'CONFIG_UNSUPPORTED',
    });
    expect(errorOf(() => parseFirecrackerConfig('{"vsock": {}}'))).toMatchObject({
      code: 'CONFIG_UNSUPPORTED',
    });
    expect(errorOf(() => parseCommandLine(['--config', join(dir, 'missing.json')]))).toMatchObject({
      code: 'CONFIG_FILE',
    });
  });
});
