import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows examples/legacy-devices.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    const example = read('../examples/legacy-devices.ts').replace("'../src/index.js'", "'@tsvmm/vm-superio'");
    expect(block).toBe(example);
  });

  it('runs, and prints what its comment says', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      written.push(String(s));
      return true;
    });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/legacy-devices.js');
    expect(written.join('')).toBe('login: ');
    expect(log.mock.calls).toEqual([['typed "root\\n", interrupts 1, rebooted true']]);
  });
});
