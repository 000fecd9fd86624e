import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows examples/io-manager.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    const example = read('../examples/io-manager.ts').replace("'../src/index.js'", "'@tsvmm/vm-device'");
    expect(block).toBe(example);
  });

  it('runs, and prints what its comments say', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/io-manager.js');
    expect(log.mock.calls).toEqual([[42], [255]]);
  });
});
