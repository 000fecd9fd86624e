import { readFileSync, statSync } from 'node:fs';
import { ensureGuestKit } from '@tsvmm/guest-kit';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KIT_TIMEOUT } from './support/images.js';
import { readelf } from './support/readelf.js';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  let kit: Awaited<ReturnType<typeof ensureGuestKit>>;
  beforeAll(async () => {
    kit = await ensureGuestKit();
  }, KIT_TIMEOUT);
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('shows examples/boot-setup.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    const example = read('../examples/boot-setup.ts').replace("'../src/index.js'", "'@tsvmm/linux-loader'");
    expect(block).toBe(example);
  });

  async function run(kernel: string): Promise<unknown[][]> {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.stubEnv('KERNEL', kernel);
    vi.stubEnv('INITRD', kit.initramfs);
    await import('../examples/boot-setup.js');
    return log.mock.calls;
  }

  it('runs with the kit bzImage, and prints what its comments say', async () => {
    expect(statSync(kit.initramfs).size).toBeGreaterThan(0);
    expect(await run(kit.bzImage)).toEqual([
      ['bzimage', '100200'],
      ['console=ttyS0 panic=-1 virtio_mmio.device=4K@0xd0000000:5'],
      [true],
    ]);
  });

  it('runs with the kit vmlinux, entering at its ELF entry point', async () => {
    const calls = await run(kit.vmlinux);
    expect(calls[0]).toEqual(['elf', readelf(kit.vmlinux).entry.toString(16)]);
  });
});
