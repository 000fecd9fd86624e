import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows examples/table.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    expect(block).toBe(read('../examples/table.ts').replace("'../src/index.js'", "'@tsvmm/bench'"));
  });

  it('runs, and prints what its comment says', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/table.js');
    const [ratio, goal] = log.mock.calls[0]!;
    expect(ratio).toBe('1.038');
    expect(goal).toMatchObject({ text: '≤ 1.10× C', met: true });
    expect((log.mock.calls[1]![0] as string).replace(/ +/g, ' ')).toContain(
      '| port-I/O exit round trip (µs) | 30.10 | 55.20 | 29.00 | 0.55 | 1.04 | ≤ 1.10× C | yes |',
    );
  });
});
