import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hello } from '../examples/hello.js';
import { kvmAvailable } from '../src/testing/kvm-available.js';

describe.skipIf(!kvmAvailable)('the README example', () => {
  it('runs a guest that prints "Hi!"', async () => {
    expect(await hello()).toBe('Hi!\n');
  });

  it('is the code the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const file of ['hello.ts', 'hello-handler.mjs']) {
      const source = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8').trim();
      expect(readme).toContain(source);
    }
  });
});
