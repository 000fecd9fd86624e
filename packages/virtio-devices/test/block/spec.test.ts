/** From the main thread's description of a disk to the device the I/O thread builds. */
import { fstatSync } from 'node:fs';
import { join } from 'node:path';
import { SysError } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import {
  Block,
  type BlockFactoryOptions,
  blockDeviceSpec,
  closeBlockDeviceSpec,
  createBlock,
  VIRTIO_BLK_F_RO,
} from '../../src/block/index.js';
import type { VirtioDeviceFactory } from '../../src/device.js';
import { VirtioDevicesError } from '../../src/errors.js';
import { patternImage, tempDir } from './helpers.js';

describe('blockDeviceSpec', () => {
  it('opens the image and describes the device; the factory named in it builds the same device', async () => {
    const path = patternImage(10 * 512);
    const spec = structuredClone(blockDeviceSpec({ path, serial: 'vol-1', queueSize: 128 }));
    expect(spec.options).toMatchObject({
      serial: 'vol-1',
      queueSize: 128,
      disk: { path, readOnly: false, size: 5120 },
    });
    const module = (await import(spec.module)) as Record<string, VirtioDeviceFactory<BlockFactoryOptions>>;
    const device = module[spec.factory]!(spec.options);
    // The I/O thread runs the build (dist/), so this is the built class, not the one imported here.
    expect(spec.module).toMatch(/\/dist\/block\/spec\.js$/);
    expect(device.constructor.name).toBe(Block.name);
    expect({
      deviceType: device.deviceType,
      queueMaxSizes: device.queueMaxSizes,
      availFeatures: device.availFeatures,
      configSpace: device.configSpace,
    }).toEqual(spec.info);
    expect((device as Block).disk.capacity).toBe(10n);
    device.close?.();
    expect(() => fstatSync(spec.options.disk.fd)).toThrow(/EBADF/);
  });

  it('a read-only disk is opened read-only and offers VIRTIO_BLK_F_RO', () => {
    const spec = blockDeviceSpec({ path: patternImage(512), readOnly: true });
    expect(spec.options.disk.readOnly).toBe(true);
    expect(spec.info.availFeatures & (1n << BigInt(VIRTIO_BLK_F_RO))).not.toBe(0n);
    const device = createBlock(spec.options);
    expect(device.disk.readOnly).toBe(true);
    device.close();
  });

  it('closeBlockDeviceSpec closes the descriptor of a VM that never started', () => {
    const spec = blockDeviceSpec({ path: patternImage(512) });
    closeBlockDeviceSpec(spec);
    expect(() => fstatSync(spec.options.disk.fd)).toThrow(/EBADF/);
  });

  it('bad options fail before the file is opened: TypeError, RangeError', () => {
    const missing = join(tempDir(), 'missing.img');
    expect(() => blockDeviceSpec(null as never)).toThrow(TypeError);
    expect(() => blockDeviceSpec({ path: missing, serial: 'x'.repeat(21) })).toThrow(RangeError);
    expect(() => blockDeviceSpec({ path: missing, queueSize: 3 })).toThrow(RangeError);
  });

  it('a missing image is BACKEND_OPEN (SysError ENOENT)', () => {
    let error: unknown;
    try {
      blockDeviceSpec({ path: join(tempDir(), 'missing.img') });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VirtioDevicesError);
    expect(error).toMatchObject({ code: 'BACKEND_OPEN', cause: { code: 'ENOENT' } });
    expect((error as Error).cause).toBeInstanceOf(SysError);
  });
});
