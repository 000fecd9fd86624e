import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rngConformance } from '../examples/conformance.js';
import { kvmAvailable } from './support.js';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/conformance.ts as it is', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
    expect(block).toBe(
      read('../examples/conformance.ts').replace("'../src/index.js'", "'@tsvmm/test-guest'"),
    );
  });
});

describe.skipIf(!kvmAvailable)('the README example', () => {
  it('finds no failed check on the reference VMM', async () => {
    expect(await rngConformance('reference')).toEqual([]);
  });
});
