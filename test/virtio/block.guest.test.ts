/**
 * virtio-blk end to end: the reference VMM gives the guest kit's Linux two
 * disks, one read-write and one read-only, in one boot. The kernel probes
 * both; the guest reads their sizes and serials (GET_ID), writes a pattern
 * to the read-write disk with `dd … conv=fsync` (writes, then a flush),
 * fails to write the read-only one, and reads all of the read-only one back
 * (reads). After the VM has ended, the images on the host are what they must
 * be, checked by SHA-256 computed here.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUEST_BOOT_MARKER, guestRunParam, parseGuestRun } from '@tsvmm/guest-kit';
import { DEFAULT_CMDLINE } from '@tsvmm/reference-vmm';
import { afterAll, describe, expect, it } from 'vitest';
import { BOOT_TIMEOUT_MS, bootGuest, guestKit, kvmAvailable } from '../support.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvmm-blk-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIB = 1024 * 1024;
/** 16 bytes, doubled 12 times by the guest's shell: 64 KiB. */
const UNIT = 'tsvmm-block-e2e!';
const PATTERN_AT = 16 * 65536; // dd bs=65536 seek=16

// One process per line at most: every exec costs about a second of emulated guest kernel time.
const SCRIPT = [
  'dmesg > /kernel.log; grep virtio_blk /kernel.log',
  'cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vda/ro /sys/block/vdb/ro',
  // The serial attribute has no newline; `read` is a shell builtin (no exec).
  'read a < /sys/block/vda/serial; read b < /sys/block/vdb/serial; echo "serials=$a,$b"',
  `s=${UNIT}; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do s=$s$s; done; printf %s "$s" > /pattern`,
  'dd if=/pattern of=/dev/vda bs=65536 seek=16 conv=fsync 2>/dev/null; echo "rw-write=$?"',
  'dd if=/pattern of=/dev/vdb bs=512 count=1 conv=fsync 2>&1; echo "ro-write=$?"',
  'sha256sum /dev/vdb',
].join('\n');

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe.skipIf(!kvmAvailable)('virtio-blk in the guest kit', () => {
  it('probes a read-write and a read-only disk; the guest writes one, cannot write the other, reads it back', {
    timeout: BOOT_TIMEOUT_MS,
  }, async () => {
    const kit = await guestKit();
    // The read-write disk starts as zeroes; the read-only one holds a pattern and a partial last sector,
    // which the device leaves out of its capacity.
    const rwPath = join(dir, 'rw.img');
    const roPath = join(dir, 'ro.img');
    writeFileSync(rwPath, new Uint8Array(4 * MIB));
    const ro = Uint8Array.from({ length: MIB + 300 }, (_, i) => (i * 131 + (i >> 9)) & 0xff);
    writeFileSync(roPath, ro);

    const { vm, exit, console } = await bootGuest({
      kernel: kit.vmlinux,
      initrd: kit.initramfs,
      drives: [
        { id: 'rw', path: rwPath, readOnly: false, isRootDevice: false, serial: 'tsvmm-rw-disk' },
        { id: 'ro', path: roPath, readOnly: true, isRootDevice: false, serial: '01234567890123456789' },
      ],
      cmdline: `${DEFAULT_CMDLINE} tsvmm.end=poweroff ${guestRunParam(SCRIPT)}`,
    });
    expect(console).toContain(GUEST_BOOT_MARKER);
    const run = parseGuestRun(console);
    expect(run, console).toBeDefined();
    const out = run!.output;

    // The kernel log: virtio_blk probed both disks, with their sizes.
    expect(out, out).toMatch(
      /virtio_blk virtio0: \[vda\] 8192 512-byte logical blocks \(4\.19 MB\/4\.00 MiB\)/,
    );
    expect(out, out).toMatch(
      /virtio_blk virtio1: \[vdb\] 2048 512-byte logical blocks \(1\.05 MB\/1\.00 MiB\)/,
    );
    // sysfs: sizes in sectors, read-only flags, and the serials (which the driver reads with GET_ID).
    const lines = out.split('\n');
    const sysfs = lines.indexOf('8192');
    expect(lines.slice(sysfs, sysfs + 4), out).toEqual(['8192', '2048', '0', '1']);
    expect(out, out).toContain('serials=tsvmm-rw-disk,01234567890123456789');
    // The write to the read-write disk succeeded. The read-only one refused the guest's write: Linux
    // marks the disk read-only from VIRTIO_BLK_F_RO and fails the write itself (EPERM), so it never
    // reaches the device (whose own IOERR answer the unit tests check).
    expect(out, out).toContain('rw-write=0');
    expect(out, out).toMatch(/dd: error writing '\/dev\/vdb': Operation not permitted/);
    expect(out, out).toContain('ro-write=1');
    // The guest read the whole read-only disk through the device: its whole sectors, as on the host.
    expect(out, out).toContain(`${sha256(ro.subarray(0, MIB))}  /dev/vdb`);
    expect(run!.status).toBe(0);
    expect(exit.reason).toBe('poweroff');

    // On the host: the pattern is in the read-write image at the offset dd was given, the rest
    // still zeroes; the read-only image is untouched.
    const expected = new Uint8Array(4 * MIB);
    expected.set(new TextEncoder().encode(UNIT.repeat(65536 / UNIT.length)), PATTERN_AT);
    expect(sha256(readFileSync(rwPath))).toBe(sha256(expected));
    expect(sha256(readFileSync(roPath))).toBe(sha256(ro));

    // The guest's driver made no mistake the transports had to count; every notification went
    // through an ioeventfd, and completions came back as interrupts.
    const counters = vm.virtioMetrics();
    for (const id of ['rw', 'ro']) {
      const c = counters[id]!;
      expect(c.interrupts, id).toBeGreaterThan(0);
      expect(c.badAccess + c.badRegister + c.badStatus + c.badWrite + c.badConfigAccess, id).toBe(0);
      expect(c.badNotify + c.deviceErrors + c.badQueueConfig + c.notifyForwarded, id).toBe(0);
    }
  });
});
