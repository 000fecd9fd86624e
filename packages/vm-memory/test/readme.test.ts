import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows examples/guest-ram.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    const example = read('../examples/guest-ram.ts').replace("'../src/index.js'", "'@tsvmm/vm-memory'");
    expect(block).toBe(example);
  });

  it('runs, and prints what its comments say', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/guest-ram.js');
    expect(log.mock.calls).toEqual([
      ['0', '100000', 'bigint'],
      ['100000000', '10000', 'bigint'],
      ['53464e49'],
      ['INVALID_ADDRESS'],
      [[1]],
    ]);
  });
});
