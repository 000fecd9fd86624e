import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows examples/echo-device.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    const example = read('../examples/echo-device.ts')
      .replace("'../src/index.js'", "'@tsvmm/virtio-queue'")
      .replace("'../src/testing/index.js'", "'@tsvmm/virtio-queue/testing'");
    expect(block).toBe(example);
  });

  it('runs, and prints what its comments say', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/echo-device.js');
    expect(log.mock.calls).toEqual([[true], ['HELLO']]);
  });
});
