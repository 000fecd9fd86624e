/**
 * The test guest itself, under both VMMs: it boots by PVH, works in user
 * mode, reports one results line, ends the way end.h says, reports faults,
 * refuses bad settings, and its block and rng workloads really verify data.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkPatternImage,
  ENTRY_LINE,
  IDLE_LINE,
  runGuest,
  testGuestCmdline,
  type VmmKind,
  writePatternImage,
} from '../src/index.js';
import { kvmAvailable, tempDir, VMMS } from './support.js';

const dir = tempDir('test-guest-kvm-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DISK_BYTES = 4 << 20;
const SEED = 0x5eed;

function disk(vmm: VmmKind, name: string): string {
  const path = join(dir, `${vmm}-${name}.img`);
  writePatternImage(path, DISK_BYTES, SEED);
  return path;
}

describe('runGuest', () => {
  it('SPAWN_FAILED when the VMM program is not there', async () => {
    await expect(
      runGuest({ vmm: 'qemu', qemu: '/nonexistent/qemu', cmdline: 'tg.work=pio' }),
    ).rejects.toMatchObject({
      name: 'TestGuestError',
      code: 'SPAWN_FAILED',
    });
  });

  it('refuses a VMM it does not know and a bad memory size, before starting anything', () => {
    expect(() => runGuest({ vmm: 'firecracker' as 'qemu', cmdline: '' })).toThrow(RangeError);
    expect(() => runGuest({ vmm: 'qemu', cmdline: '', memoryMiB: 8 })).toThrow(RangeError);
  });
});

describe.skipIf(!kvmAvailable)('conformance checks against a legacy device', () => {
  it('fail: QEMU’s default virtio-mmio is version 1', async () => {
    const run = await runGuest({
      vmm: 'qemu',
      cmdline: testGuestCmdline({ work: ['conformance'] }),
      rng: true,
      extraArgs: ['-global', 'virtio-mmio.force-legacy=true'],
    });
    expect(run.result?.status).toBe('fail');
    expect(run.result?.devices[0]).toMatchObject({ type: 'rng', version: 1 });
    expect(run.result?.checks.find((c) => c.id === 'rng0.version-2')).toEqual({
      id: 'rng0.version-2',
      ok: false,
      message: 'got 0x1, want 0x2',
    });
  });
});

describe.skipIf(!kvmAvailable).each(VMMS)('the test guest under %s', (vmm) => {
  it('enters, loops on port and MMIO exits in user mode, idles, and ends on purpose', async () => {
    const lines: string[] = [];
    const run = await runGuest({
      vmm,
      cmdline: testGuestCmdline({ work: ['pio', 'mmio', 'idle'], exits: 500, idleMs: 50 }),
      onLine: (line) => lines.push(line),
    });
    expect(run.ended, run.console + run.stderr).toBe('done');
    expect(lines[0]).toBe(ENTRY_LINE);
    expect(lines).toContain(IDLE_LINE);
    expect(run.firstOutputMs).toBeGreaterThan(0);
    const r = run.result!;
    expect(r.status).toBe('ok');
    expect(r.results.map((w) => [w.work, w.ok, w.ops])).toEqual([
      ['pio', true, 500],
      ['mmio', true, 500],
      ['idle', true, 0],
    ]);
    // Every exit takes time; the guest's clock saw it (no claim about how much: that is the benchmark's).
    for (const w of r.results) expect(w.ns).toBeGreaterThan(0);
    expect(r.results[2]!.ns).toBeGreaterThanOrEqual(50_000_000);
  });

  it('reports a fault in user mode with where it happened, and ends by a triple fault', async () => {
    // Address 0 is the one page the guest leaves unmapped.
    const run = await runGuest({ vmm, cmdline: testGuestCmdline({ work: ['mmio'], mmioAddress: 0 }) });
    expect(run.ended, run.console).toBe('shutdown');
    expect(run.result?.status).toBe('fault');
    expect(run.result?.fault).toMatchObject({ vector: 14n, cr2: 0n, cs: 0x23n });
    expect(run.result!.fault!.error & 4n).toBe(4n); // the user-mode bit of the page-fault error code
  });

  it('refuses a setting it does not know, and says which', async () => {
    const run = await runGuest({ vmm, cmdline: 'tg.work=pio tg.nonsense=1' });
    expect(run.ended).toBe('done');
    expect(run.result).toMatchObject({ status: 'error', error: 'bad command line word: tg.nonsense=1' });
  });

  it('reads, writes and randomly reads a disk, verifying every byte, and leaves what it wrote', async () => {
    const path = disk(vmm, 'rw');
    const half = DISK_BYTES / 2;
    const run = await runGuest({
      vmm,
      cmdline: testGuestCmdline({
        work: ['blk-read', 'blk-write', 'blk-rand'],
        blk: {
          bytes: half,
          requestBytes: 64 << 10,
          depth: 4,
          seed: SEED,
          writeSeed: 0x1dea,
          writeOffset: half,
          randomReads: 300,
        },
      }),
      disk: { path },
    });
    expect(run.ended, run.console + run.stderr).toBe('done');
    expect(run.result?.status, run.console).toBe('ok');
    const [read, write, rand] = run.result!.results;
    expect(read).toMatchObject({ work: 'blk-read', ok: true, bytes: half, ops: 32, errors: 0 });
    expect(write).toMatchObject({ work: 'blk-write', ok: true, bytes: half, ops: 32, errors: 0 });
    // Random reads cover both halves: each verified against the pattern its half now holds.
    expect(rand).toMatchObject({ work: 'blk-rand', ok: true, bytes: 300 * 4096, ops: 300, errors: 0 });
    expect(checkPatternImage(path, 0, half, SEED)).toBe(-1);
    expect(checkPatternImage(path, half, half, 0x1dea)).toBe(-1);
  });

  it('catches data that is not what the image holds', async () => {
    const path = disk(vmm, 'bad');
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(0xdeadbeef, 3 * 4096 + 8);
    writeFileSync(path, bytes);
    const run = await runGuest({
      vmm,
      cmdline: testGuestCmdline({ work: ['blk-read'], blk: { bytes: 64 << 10, seed: SEED } }),
      disk: { path },
    });
    expect(run.result?.status).toBe('fail');
    expect(run.result?.results[0]).toMatchObject({
      ok: false,
      errors: 1,
      note: `data mismatch at byte 0x${(3 * 4096 + 8).toString(16)}`,
    });
  });

  it('reads random bytes from virtio-rng', async () => {
    const run = await runGuest({
      vmm,
      cmdline: testGuestCmdline({ work: ['rng'], rng: { bytes: 256 << 10, requestBytes: 16 << 10 } }),
      rng: true,
    });
    expect(run.result?.results[0]).toMatchObject({
      work: 'rng',
      ok: true,
      bytes: 256 << 10,
      ops: 16,
      errors: 0,
    });
  });

  it('conformance checks compare with what the device must answer: wrong expectations fail', async () => {
    const path = disk(vmm, 'conf');
    const run = await runGuest({
      vmm,
      cmdline: testGuestCmdline({
        work: ['conformance'],
        blk: { seed: SEED, expectSectors: 1234, expectSerial: 'not-it' },
      }),
      disk: { path, serial: 'the-serial' },
    });
    expect(run.result?.status).toBe('fail');
    const failed = run.result!.checks.filter((c) => !c.ok);
    expect(failed).toEqual([
      { id: 'blk0.capacity', ok: false, message: `got 0x${(DISK_BYTES / 512).toString(16)}, want 0x4d2` },
      { id: 'blk0.get-id-serial', ok: false, message: "GET_ID did not return the disk's serial" },
    ]);
  });

  it('fails a workload whose device is not there, and still reports', async () => {
    const run = await runGuest({ vmm, cmdline: testGuestCmdline({ work: ['rng', 'pio'], exits: 10 }) });
    expect(run.ended).toBe('done');
    expect(run.result?.status).toBe('fail');
    expect(run.result?.results.map((w) => [w.work, w.ok])).toEqual([
      ['rng', false],
      ['pio', true],
    ]);
  });
});
