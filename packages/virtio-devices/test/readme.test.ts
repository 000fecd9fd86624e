import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');
/** The code with runs of white space as one space, so line breaks the longer import needs do not count. */
const flat = (code: string | undefined) => code?.replace(/\s+/g, ' ').replace(/, \}/g, ' }');

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows examples/rng-device.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    const example = read('../examples/rng-device.ts').replace("'../src/index.js'", "'@tsvmm/virtio-devices'");
    expect(flat(block)).toBe(flat(example));
  });

  it('runs, and prints what its comments say', { timeout: 15_000 }, async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/rng-device.js');
    const [[status], [len], [hex]] = log.mock.calls as [[number], [number], [string]];
    expect(status).toBe(1);
    expect(len).toBe(16);
    expect(hex).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(hex.match(/../g)).size).toBeGreaterThan(8);
  });
});
