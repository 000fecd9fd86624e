/**
 * The reference-vmm program as a user runs it: bad input is refused before a
 * VM exists, with one line on stderr and the documented status; signals stop
 * a running guest cleanly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { describe, expect, it } from 'vitest';
import { ENDINGS, tinyKernel } from './fixtures/tiny-kernel.js';

const BIN = fileURLToPath(new URL('../bin/reference-vmm.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsvmm-cli-'));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bad input', () => {
  it.each([
    [['--frobnicate'], 2, /Unknown option '--frobnicate'/],
    [[], 2, /a kernel is required/],
    [['--kernel', '/nonexistent/vmlinux'], 1, /kernel \/nonexistent\/vmlinux does not exist/],
    [['--kernel', '/etc/hostname', '--memory', '999999999'], 1, /--memory must be between 16 and/],
    [['--kernel', '/etc/hostname', '--vcpus', '0'], 1, /--vcpus must be between 1 and 254/],
    [['--config', '/nonexistent.json'], 1, /cannot read config file/],
  ])('%j exits %i with one clear line', (args, status, message) => {
    const r = run(args);
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(/^reference-vmm: /);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('refuses malformed JSON in a config file', () => {
    const r = run(['--config', file('bad.json', '{"boot-source": {')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not valid JSON/);
  });

  it.skipIf(!kvmAvailable)('refuses an image it cannot boot', () => {
    const r = run(['--kernel', file('not-a-kernel', 'just some text, neither ELF nor bzImage')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot load kernel .*neither an ELF file nor a bzImage/);
  });

  it.skipIf(!kvmAvailable)('refuses --boot pvh for a kernel without a PVH note', () => {
    const r = run(['--kernel', file('elf64-no-note', elfWithoutNote()), '--boot', 'pvh']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--boot pvh needs a kernel with a PVH entry/);
  });

  it('prints help and the default command line', () => {
    expect(run(['--help'])).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^usage: reference-vmm/),
    });
    expect(run(['--help-cmdline'])).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/console=ttyS0/),
    });
  });
});

/** The tiny kernel with its PT_NOTE header turned into PT_NULL: an ELF without a PVH entry. */
function elfWithoutNote(): Uint8Array {
  const image = tinyKernel('', ENDINGS.poweroff);
  const view = new DataView(image.buffer);
  view.setUint32(64 + 56, 0, true); // second program header: p_type = PT_NULL
  return image;
}

describe.skipIf(!kvmAvailable)('a guest with a disk', () => {
  it('ends with exactly one line on stderr: no warnings from closing the image on the I/O thread', () => {
    const disk = file('disk.img', new Uint8Array(1 << 20));
    const r = run([
      '--kernel',
      file('hello', tinyKernel('hello\n', ENDINGS.poweroff)),
      '--memory',
      '16',
      '--disk',
      disk,
    ]);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe(
      'reference-vmm: the guest powered off (every vCPU halted with interrupts disabled)\n',
    );
    expect(r.status).toBe(0);
  });
});

describe.skipIf(!kvmAvailable)('signals', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s stops a running guest and exits %i', async (signal, status) => {
    const kernel = file(`spin-${signal}`, tinyKernel('ready\n', ENDINGS.echo));
    const child = spawn(process.execPath, [BIN, '--kernel', kernel, '--memory', '16'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('ready\n')) resolve();
      }),
    );
    child.kill(signal);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(status);
    expect(stderr.trim()).toBe(`reference-vmm: stopped by ${signal}`);
  });
});

describe.skipIf(!kvmAvailable || !existsSync('/usr/bin/script'))('on a terminal', () => {
  it('switches it to raw mode, so Ctrl-C reaches the guest, and restores it afterwards', async () => {
    const kernel = file('tty-echo', tinyKernel('ready\n', ENDINGS.echo));
    const before = join(dir, 'stty-before');
    const after = join(dir, 'stty-after');
    // script(1) runs the program on a pseudo-terminal and copies our writes to it, as typing would.
    const command = `stty -a > ${before}; ${process.execPath} ${BIN} --kernel ${kernel} --memory 16; echo status=$?; stty -a > ${after}`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typed = false;
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString('latin1');
      if (!typed && output.includes('ready')) {
        typed = true;
        // On a cooked terminal 0x03 would be SIGINT (status 130); in raw mode the echo guest gets it.
        child.stdin.write('ab\x03cd\x04');
      }
    });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(output).toContain('ab\x03cd');
    expect(output).toMatch(/status=0/);
    expect(readFileSync(before, 'utf8')).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(readFileSync(after, 'utf8')).toMatch(/(^|\s)icanon(\s|$)/m);
    expect(readFileSync(after, 'utf8')).toMatch(/(^|\s)isig(\s|$)/m);
  });
});
