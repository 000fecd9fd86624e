/**
 * `--net tap=<name>,create`: the VMM creates the TAP interface it was asked
 * for, and it is gone once the VM has ended. No traffic is sent: the
 * interface stays down and no address is configured.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { describe, expect, it } from 'vitest';
import { finalizeConfig } from '../src/config.js';
import { createVm } from '../src/vm.js';
import { ENDINGS, tinyKernel } from './fixtures/tiny-kernel.js';

const kernel = join(mkdtempSync(join(tmpdir(), 'tsvmm-tap-')), 'kernel');
writeFileSync(kernel, tinyKernel('', ENDINGS.poweroff));
const tapName = () => `tsvmmc${process.pid % 100000}`;

describe.skipIf(!kvmAvailable || !existsSync('/dev/net/tun'))('a TAP the VMM is asked to create', () => {
  it('exists while the VM does and disappears with it', async () => {
    const tap = tapName();
    expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
    const vm = await createVm(
      finalizeConfig({ kernel, memoryMiB: 16, net: [{ id: 'net0', tap, create: true }] }),
    );
    expect(existsSync(`/sys/class/net/${tap}`)).toBe(true);
    await vm.start();
    expect((await vm.wait()).reason).toBe('poweroff');
    expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
  });

  it('is not created without being asked: a missing TAP is an error before any VM exists', async () => {
    const tap = tapName();
    await expect(
      createVm(finalizeConfig({ kernel, memoryMiB: 16, net: [{ id: 'net0', tap }] })),
    ).rejects.toMatchObject({
      code: 'NET',
      message: expect.stringContaining(tap),
    });
    expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
  });
});
