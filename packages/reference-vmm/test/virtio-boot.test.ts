/**
 * How the reference VMM announces virtio devices to the guest: one
 * `virtio_mmio.device=` per device on the command line, an MP table entry
 * for an IRQ above the ISA range, the root drive first with `root=/dev/vda`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import { loadGuest } from '../src/boot.js';
import { finalizeConfig, type VmConfig } from '../src/config.js';
import { CMDLINE_ADDRESS, MPTABLE_ADDRESS, ramRanges } from '../src/layout.js';
import { openVirtioBackends, releaseVirtioBackends, rootDeviceArgs } from '../src/virtio.js';
import { ENDINGS, tinyKernel } from './fixtures/tiny-kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvmm-virtio-boot-'));
const kernel = join(dir, 'kernel');
writeFileSync(kernel, tinyKernel('', ENDINGS.poweroff));

function boot(virtioDevices: { address: bigint; irq: number }[], extraArgs: string[] = []) {
  const mem = GuestMemoryArrayBuffer.fromRanges(ramRanges(16 * 1024 * 1024));
  loadGuest(mem, {
    kernel,
    cmdline: 'console=ttyS0 -- init-arg',
    protocol: 'auto',
    vcpus: 1,
    virtioDevices,
    extraArgs,
  });
  const cmdline = Buffer.from(mem.getSlice(CMDLINE_ADDRESS, 512)).toString('latin1').split('\0')[0];
  return { mem, cmdline };
}

/** The MP table's I/O interrupt entries: [source bus IRQ, destination pin]. */
function ioInterrupts(mem: GuestMemoryArrayBuffer): [number, number][] {
  const table = mem.getSlice(MPTABLE_ADDRESS, 0x1000);
  const view = new DataView(table.buffer, table.byteOffset);
  const config = view.getUint32(4, true) - Number(MPTABLE_ADDRESS); // the floating pointer's physptr
  const count = view.getUint16(config + 34, true);
  const out: [number, number][] = [];
  let at = config + 44;
  for (let i = 0; i < count; i++) {
    const type = table[at]!;
    if (type === 3) out.push([table[at + 5]!, table[at + 7]!]);
    at += type === 0 ? 20 : 8;
  }
  return out;
}

describe('announcing virtio devices', () => {
  it('puts one virtio_mmio.device= per device before the init arguments', () => {
    const { cmdline } = boot(
      [
        { address: 0xd000_0000n, irq: 5 },
        { address: 0xd000_1000n, irq: 6 },
      ],
      ['root=/dev/vda', 'rw'],
    );
    expect(cmdline).toBe(
      'console=ttyS0 root=/dev/vda rw virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6 -- init-arg',
    );
  });

  it('gives an IRQ above 15 its own I/O APIC entry in the MP table, and only then', () => {
    const isa = ioInterrupts(boot([{ address: 0xd000_0000n, irq: 5 }]).mem);
    expect(isa.map(([irq]) => irq)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const high = ioInterrupts(boot([{ address: 0xd000_0000n, irq: 17 }]).mem);
    expect(high).toContainEqual([17, 17]);
    expect(high).toHaveLength(isa.length + 1);
  });

  it('makes the root drive the first device and /dev/vda, read-only or not', () => {
    const image = join(dir, 'disk.img');
    writeFileSync(image, new Uint8Array(4096));
    const config = finalizeConfig({
      kernel,
      rng: true,
      drives: [
        { id: 'data', path: image, readOnly: false, isRootDevice: false },
        { id: 'root', path: image, readOnly: true, isRootDevice: true },
      ],
    } as VmConfig);
    const backends = openVirtioBackends(config);
    try {
      expect(backends.map((b) => [b.kind, b.id])).toEqual([
        ['block', 'root'],
        ['block', 'data'],
        ['rng', 'rng'],
      ]);
    } finally {
      releaseVirtioBackends(backends);
    }
    expect(rootDeviceArgs(config)).toEqual(['root=/dev/vda', 'ro']);
    expect(rootDeviceArgs({ ...config, cmdline: `${config.cmdline} root=/dev/sda` })).toEqual([]);
    expect(rootDeviceArgs({ ...config, drives: [] })).toEqual([]);
  });
});
