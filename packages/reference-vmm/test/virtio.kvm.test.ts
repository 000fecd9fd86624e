/**
 * The virtio wiring of createVm() on the real /dev/kvm: a tiny PVH guest
 * drives a virtio-rng device the way a driver does — registers by MMIO
 * exits handled on its vCPU thread, QueueNotify through the ioeventfd,
 * the used buffer from the I/O thread — and bad device input is refused
 * before the VM starts.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { finalizeConfig, type VmConfig } from '../src/config.js';
import { VmmError } from '../src/errors.js';
import { createVm, type Vm } from '../src/vm.js';
import { ENDINGS, tinyKernel } from './fixtures/tiny-kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvmm-virtio-'));
const vms: Vm[] = [];
afterAll(async () => {
  for (const vm of vms) await vm.stop().catch(() => undefined);
});

/** The process's open descriptors. */
const openFds = () =>
  readdirSync('/proc/self/fd')
    .map(Number)
    .sort((a, b) => a - b);
const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
/** mov dword [addr], value */
const store = (addr: number, value: number) => [0xc7, 0x05, ...u32(addr), ...u32(value)];

const MMIO = 0xd000_0000; // the first virtio-mmio window
const DESC = 0x20_0000;
const AVAIL = 0x20_1000;
const USED = 0x20_2000;
const BUF = 0x20_3000;

/**
 * 32-bit guest code: probes the device at MMIO (features: VERSION_1 only),
 * sets queue 0 up with one 16-byte device-writable buffer, notifies, waits
 * for the used index to move, then prints the buffer on COM1.
 */
const RNG_DRIVER = [
  ...store(MMIO + 0x70, 0), // reset
  ...store(MMIO + 0x70, 1), // ACKNOWLEDGE
  ...store(MMIO + 0x70, 3), // DRIVER
  ...store(MMIO + 0x24, 1),
  ...store(MMIO + 0x20, 1), // features 32..63: VIRTIO_F_VERSION_1
  ...store(MMIO + 0x24, 0),
  ...store(MMIO + 0x20, 0),
  ...store(MMIO + 0x70, 0xb), // FEATURES_OK
  ...store(MMIO + 0x30, 0),
  ...store(MMIO + 0x38, 16),
  ...store(MMIO + 0x80, DESC),
  ...store(MMIO + 0x90, AVAIL),
  ...store(MMIO + 0xa0, USED),
  ...store(MMIO + 0x44, 1), // QueueReady
  ...store(MMIO + 0x70, 0xf), // DRIVER_OK
  ...store(DESC, BUF), // descriptor 0: addr
  ...store(DESC + 8, 16), // len
  ...store(DESC + 12, 2), // flags WRITE, next 0
  ...store(AVAIL, 0x1_0000), // flags 0, idx 1 (ring[0] = 0 already)
  ...store(MMIO + 0x50, 0), // QueueNotify: the ioeventfd
  0x0f,
  0xb7,
  0x05,
  ...u32(USED + 2), // wait: movzx eax, word [used.idx]
  0x85,
  0xc0, // test eax, eax
  0x74,
  0xf5, // jz wait
  0xbe,
  ...u32(BUF), // mov esi, BUF
  0xb9,
  ...u32(16), // mov ecx, 16
  0x66,
  0xba,
  0xf8,
  0x03, // mov dx, 0x3f8
  0xac, // print: lodsb
  0xee, // out dx, al
  0xe2,
  0xfc, // loop print
];

function config(partial: Partial<VmConfig>): VmConfig {
  const kernel = join(dir, 'rng-driver');
  writeFileSync(kernel, tinyKernel('', [...RNG_DRIVER, ...ENDINGS.poweroff]));
  return finalizeConfig({ kernel, memoryMiB: 16, ...partial } as VmConfig);
}

describe.skipIf(!kvmAvailable)('virtio devices in createVm()', () => {
  it('serves a guest’s virtio-rng request through the ioeventfd and the I/O thread', async () => {
    const vm = await createVm(config({ rng: true }));
    vms.push(vm);
    let text = '';
    vm.console.output.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    await vm.start();
    const exit = await vm.wait();
    expect(exit.reason).toBe('poweroff');
    expect(text).toHaveLength(16);
    expect(new Set(text).size).toBeGreaterThan(8); // 16 random bytes
    const rng = vm.virtioMetrics().rng!;
    expect(rng.notifyForwarded).toBe(0); // KVM's ioeventfd took the notification: no exit
    expect(rng.interrupts).toBe(1);
    expect(rng.badAccess + rng.badRegister + rng.badStatus + rng.badWrite + rng.badQueueConfig).toBe(0);
  });

  it('refuses a disk that cannot be opened (DISK), before the VM exists', async () => {
    // Checked by finalizeConfig, then gone by the time the VM is built.
    const image = join(dir, 'vanishing.img');
    writeFileSync(image, new Uint8Array(4096));
    const checked = config({
      rng: true,
      drives: [{ id: 'd', path: image, readOnly: false, isRootDevice: false }],
    });
    rmSync(image);
    const err = await createVm(checked).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmmError);
    expect(err).toMatchObject({
      code: 'DISK',
      message: expect.stringMatching(/^disk d: cannot open .*ENOENT/),
    });
  });

  it('refuses a TAP device that does not exist (NET), before the VM exists', async () => {
    const err = await createVm(config({ net: [{ id: 'net0', tap: 'tsvmm-absent9' }] })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VmmError);
    expect(err).toMatchObject({
      code: 'NET',
      message: expect.stringMatching(/^network interface net0: cannot open TAP/),
    });
  });

  it('refuses more devices than there are IRQs for (DEVICE)', async () => {
    const image = join(dir, 'disk.img');
    writeFileSync(image, new Uint8Array(4096));
    const drives = Array.from({ length: 19 }, (_, i) => ({
      id: `d${i}`,
      path: image,
      readOnly: true,
      isRootDevice: false,
    }));
    const checked = config({ drives });
    const fds = openFds();
    await expect(createVm(checked)).rejects.toMatchObject({
      code: 'DEVICE',
      message: expect.stringContaining('at most 18 virtio devices'),
    });
    expect(openFds()).toEqual(fds); // the 19 images, the eventfds, KVM: all closed again, once
  });
});
