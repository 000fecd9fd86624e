/**
 * createVm() end to end on the real /dev/kvm with tiny PVH kernels: boot,
 * serial output and input, and each way a guest can end, classified.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { finalizeConfig } from '../src/config.js';
import { createVm, type Vm } from '../src/vm.js';
import { AP_PRINTS_A, ENDINGS, START_AP, tinyKernel } from './fixtures/tiny-kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvmm-vm-'));
const vms: Vm[] = [];
afterAll(async () => {
  for (const vm of vms) await vm.stop().catch(() => undefined);
});

function kernelFile(name: string, text: string, ending: readonly number[]): string {
  const path = join(dir, name);
  writeFileSync(path, tinyKernel(text, ending));
  return path;
}

async function boot(kernel: string, vcpus = 1): Promise<{ vm: Vm; output: () => string }> {
  const vm = await createVm(finalizeConfig({ kernel, memoryMiB: 16, vcpus }));
  vms.push(vm);
  let text = '';
  vm.console.output.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  await vm.start();
  return { vm, output: () => text };
}

/** Lets the console pipe drain into the stream after the VM ended. */
const drained = () => new Promise((resolve) => setTimeout(resolve, 50));

describe.skipIf(!kvmAvailable)('a VM with a tiny PVH kernel', () => {
  it('boots through PVH, prints on COM1 and powers off with cli; hlt', async () => {
    const { vm, output } = await boot(kernelFile('poweroff', 'hello from the guest\n', ENDINGS.poweroff));
    expect(vm.boot).toEqual({ protocol: 'pvh', kernelKind: 'elf' });
    const exit = await vm.wait();
    await drained();
    expect(exit.reason).toBe('poweroff');
    expect(output()).toBe('hello from the guest\n');
  });

  it('powers off only when every vCPU is halted: an AP never started does not keep it alive', async () => {
    const { vm } = await boot(kernelFile('poweroff-smp', 'x', ENDINGS.poweroff), 2);
    expect((await vm.wait()).reason).toBe('poweroff');
  });

  it('starts an application processor through INIT/SIPI from the boot CPU', async () => {
    const kernel = join(dir, 'smp');
    writeFileSync(kernel, tinyKernel('B', [...START_AP, ...ENDINGS.poweroff], [AP_PRINTS_A]));
    const { vm, output } = await boot(kernel, 2);
    const exit = await vm.wait();
    expect(exit.reason).toBe('poweroff');
    expect([...output()].sort().join('')).toBe('AB');
  });

  it('reboots when the guest pulses the i8042 reset line', async () => {
    const { vm, output } = await boot(kernelFile('reboot', 'rebooting\n', ENDINGS.reboot));
    const exit = await vm.wait();
    await drained();
    expect(exit).toMatchObject({ reason: 'reboot', vcpu: 0 });
    expect(output()).toBe('rebooting\n');
  });

  it('calls a reset after a kernel panic line a panic', async () => {
    const { vm } = await boot(
      kernelFile('panic', 'Kernel panic - not syncing: VFS: Unable to mount root fs\n', ENDINGS.reboot),
    );
    expect((await vm.wait()).reason).toBe('panic');
  });

  it('reports a triple fault as a shutdown', async () => {
    const { vm } = await boot(kernelFile('shutdown', '', ENDINGS.shutdown));
    expect((await vm.wait()).reason).toBe('shutdown');
  });

  it('reports an instruction KVM cannot run as an internal error (or, on hardware, a shutdown)', async () => {
    const { vm } = await boot(kernelFile('int3', '', ENDINGS.int3));
    const exit = await vm.wait();
    expect(['internal-error', 'shutdown']).toContain(exit.reason);
    if (exit.reason === 'internal-error') expect(exit.detail).toMatchObject({ suberror: 1 });
  });

  it('delivers console input to the guest without losing bytes', async () => {
    const { vm, output } = await boot(kernelFile('echo', 'ready\n', ENDINGS.echo));
    // far more than the 16-byte FIFO holds at once: the rest waits for room
    const text = 'the quick brown fox jumps over the lazy dog, '.repeat(8);
    vm.console.write(text);
    vm.console.write('\x04');
    const exit = await vm.wait();
    await drained();
    expect(exit.reason).toBe('poweroff');
    expect(output()).toBe(`ready\n${text}`);
  });

  it('stops even while its console output is not being read (the vCPU is blocked writing to a full pipe)', {
    timeout: 20_000,
  }, async () => {
    // Print 4 KiB, then jump back to the start: endless output. Nobody reads vm.console.output, so the
    // pipe fills and the vCPU thread blocks in write(2) until stop() interrupts it.
    const text = 'x'.repeat(4096);
    const jumpAt = 17; // printCode's length: the jump comes right after it
    const jumpBack = [0xe9, ...new Uint8Array(new Int32Array([-(jumpAt + 5)]).buffer)];
    const kernel = kernelFile('chatty', text, jumpBack);
    const vm = await createVm(finalizeConfig({ kernel, memoryMiB: 16 }));
    vms.push(vm);
    await vm.start();
    await new Promise((resolve) => setTimeout(resolve, 4000)); // long enough to fill a 64 KiB pipe here
    const exit = await vm.stop('test over');
    expect(exit).toEqual({ reason: 'stopped', message: 'test over' });
  });

  it('stops on request and counts I/O nobody claimed', async () => {
    // the echo guest polls the UART forever until stopped
    const { vm } = await boot(kernelFile('spin', '', ENDINGS.echo));
    const exit = await vm.stop('test over');
    expect(exit).toEqual({ reason: 'stopped', message: 'test over' });
    expect(vm.metrics()).toEqual({
      unclaimedPioReads: 0,
      unclaimedPioWrites: 0,
      unclaimedMmio: 0,
      badAccesses: 0,
    });
  });
});
