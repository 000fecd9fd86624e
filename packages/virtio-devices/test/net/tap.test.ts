/**
 * Opening TAP devices for real: by name, created when asked, and each way
 * it fails. These create and delete TAP interfaces in this process's own
 * network namespace (a TAP is opened by name there); they stay down, get no
 * address and carry no traffic, and each test removes what it made.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SysError } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import { VirtioDevicesError } from '../../src/errors.js';
import { builtModuleUrl } from '../../src/io-thread/module-url.js';
import { checkInterfaceName, Tap } from '../../src/net/tap.js';
import { ip, tapName } from './netns.js';

/** The interface's details as `ip -d -j link show` gives them, or undefined if there is none. */
function link(
  name: string,
): { flags: string[]; linkinfo?: { info_data?: Record<string, unknown> } } | undefined {
  const names = readFileSync('/proc/net/dev', 'utf8').matchAll(/^\s*([^\s:]+):/gm);
  if (![...names].some((m) => m[1] === name)) return undefined;
  return JSON.parse(ip('-d', '-j', 'link', 'show', name))[0];
}

/** What `Tap.open` throws, checked to be a BACKEND_OPEN error with a SysError cause. */
function openError(name: string, options?: { create?: boolean }): { errno: number; message: string } {
  try {
    Tap.open(name, options).close();
  } catch (err) {
    expect(err).toBeInstanceOf(VirtioDevicesError);
    expect(err).toMatchObject({ code: 'BACKEND_OPEN' });
    const cause = (err as VirtioDevicesError).cause;
    expect(cause).toBeInstanceOf(SysError);
    return { errno: (cause as SysError).errno, message: (err as Error).message };
  }
  throw new Error(`opening ${name} did not fail`);
}

/** A persistent TAP made as a user would (`ip tuntap add`), removed after `body`. */
function withPersistentTap(body: (name: string) => void, mode = 'tap', ...extra: string[]): void {
  const name = tapName();
  ip('tuntap', 'add', 'dev', name, 'mode', mode, ...extra);
  try {
    body(name);
  } finally {
    ip('tuntap', 'del', 'dev', name, 'mode', mode, ...extra);
  }
}

describe('Tap.open', () => {
  it('creates a missing TAP when asked, with a 12-byte virtio-net header and no offloads; it goes away on close', () => {
    const name = tapName();
    const tap = Tap.open(name, { create: true });
    try {
      expect(tap.name).toBe(name);
      expect(tap.fd).toBeGreaterThan(2);
      expect(link(name)?.linkinfo?.info_data).toMatchObject({
        type: 'tap',
        pi: false,
        vnet_hdr: true,
        multi_queue: false,
        persist: false,
      });
    } finally {
      tap.close();
    }
    expect(tap.closed).toBe(true);
    expect(() => tap.fd).toThrow(expect.objectContaining({ code: 'EBADF' }));
    tap.close(); // idempotent
    expect(link(name)).toBeUndefined();
  });

  it('opens an existing TAP by name without creating anything, and leaves it in place on close', () => {
    withPersistentTap((name) => {
      {
        using _tap = Tap.open(name);
        expect(link(name)?.linkinfo?.info_data).toMatchObject({ vnet_hdr: true, pi: false, persist: true });
      }
      expect(link(name)).toBeDefined();
      Tap.open(name, { create: true }).close(); // create: true opens an existing one too
    });
  });

  it('fails with ENODEV for a name no interface has, and creates nothing', () => {
    const name = tapName();
    const { errno, message } = openError(name);
    expect(errno).toBe(19);
    expect(message).toBe(
      `cannot open TAP ${name}: ioctl(TUNSETIFF) failed: ENODEV (errno 19): no TAP device named ${name} in this network namespace (make one with \`ip tuntap add dev ${name} mode tap\`, or open it with create: true)`,
    );
    expect(link(name)).toBeUndefined();
  });

  it('fails with EBUSY for a TAP another open file is attached to', () => {
    withPersistentTap((name) => {
      using _first = Tap.open(name);
      const { errno, message } = openError(name);
      expect(errno).toBe(16);
      expect(message).toMatch(/EBUSY .*: TAP .* is in use: another open file is attached to it/);
    });
  });

  it('fails with EINVAL for an interface that is not a single-queue TAP: lo, a TUN, a multi_queue TAP', () => {
    expect(openError('lo').message).toMatch(/EINVAL .*: lo exists but is not a single-queue TAP device/);
    withPersistentTap((name) => expect(openError(name).errno).toBe(22), 'tun');
    withPersistentTap((name) => expect(openError(name).errno).toBe(22), 'tap', 'multi_queue');
  });

  /** Runs `Tap.open(name, { create: true })` from the build in a child process under `wrapper`. */
  function openInChild(wrapper: string[], name: string): string {
    const url = builtModuleUrl('../../src/net/tap.js', import.meta.url);
    const script = `import { Tap } from ${JSON.stringify(url)};
      try { Tap.open(${JSON.stringify(name)}, { create: true }).close(); console.log('opened'); }
      catch (err) { console.log(err.code, err.cause?.code, err.message); }`;
    const r = spawnSync(
      wrapper[0]!,
      [...wrapper.slice(1), process.execPath, '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    return r.stdout.trim();
  }

  it('fails with EPERM without CAP_NET_ADMIN', () => {
    const name = tapName();
    const out = openInChild(['setpriv', '--bounding-set=-all'], name);
    expect(out).toMatch(/^BACKEND_OPEN EPERM cannot open TAP .*: attaching TAP .* needs CAP_NET_ADMIN/);
    expect(link(name)).toBeUndefined();
  });

  it('fails with ENOENT where there is no /dev/net/tun', () => {
    const out = openInChild(
      ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /dev/net && exec "$@"', 'sh'],
      tapName(),
    );
    expect(out).toMatch(/^BACKEND_OPEN ENOENT cannot open TAP .*: open failed: ENOENT/);
  });

  it('refuses names the kernel would refuse or rewrite, and bad options, before opening anything', () => {
    for (const bad of [
      '',
      '0123456789abcdef',
      'ééééééééé',
      '.',
      '..',
      'a/b',
      'a:b',
      'a b',
      'a\tb',
      'tap%d',
      'a\0b',
    ])
      expect(() => Tap.open(bad, { create: true }), JSON.stringify(bad)).toThrow(RangeError);
    expect(() => Tap.open(5 as unknown as string)).toThrow(TypeError);
    expect(() => Tap.open('tap0', { create: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => checkInterfaceName('0123456789abcde')).not.toThrow();
    expect(() => new Tap(-1, 'tap0')).toThrow(RangeError);
    expect(() => new Tap(3, 'a/b')).toThrow(RangeError);
  });
});

describe('reading and writing', () => {
  it('a TAP with no frame reads nothing; a frame shorter than an Ethernet header is refused with EINVAL', () => {
    using tap = Tap.open(tapName(), { create: true });
    expect(tap.read([new Uint8Array(2048)])).toBeUndefined();
    // The interface is down: a frame is dropped with EIO before its length is looked at...
    expect(() => tap.write([new Uint8Array(12 + 60)])).toThrow(
      expect.objectContaining({ code: 'BACKEND_IO', cause: expect.objectContaining({ code: 'EIO' }) }),
    );
    // ...but a frame too short for any interface is EINVAL first.
    expect(() => tap.write([new Uint8Array(12), new Uint8Array(5)])).toThrow(
      expect.objectContaining({
        code: 'BACKEND_IO',
        message: expect.stringMatching(/^writing a frame to TAP .*: writev failed: EINVAL/),
        cause: expect.objectContaining({ code: 'EINVAL', syscall: 'writev' }),
      }),
    );
  });

  it('reading or writing a deleted interface fails with EBADFD', () => {
    const tap = Tap.open(tapName(), { create: true });
    try {
      execFileSync('ip', ['link', 'del', tap.name]);
      for (const op of [() => tap.read([new Uint8Array(64)]), () => tap.write([new Uint8Array(100)])])
        expect(op).toThrow(
          expect.objectContaining({ code: 'BACKEND_IO', cause: expect.objectContaining({ code: 'EBADFD' }) }),
        );
    } finally {
      tap.close();
    }
  });
});
