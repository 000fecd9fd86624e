import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { describe, expect, it } from 'vitest';
import { boot } from '../examples/boot.js';
import { ENDINGS, tinyKernel } from './fixtures/tiny-kernel.js';

describe('the README example', () => {
  it('is the code in examples/boot.ts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/boot.ts', import.meta.url), 'utf8');
    const body = example.slice(example.indexOf('import'));
    expect(readme).toContain(body.trim());
  });

  it.skipIf(!kvmAvailable)('boots a kernel and reports how it ended', async () => {
    const kernel = join(mkdtempSync(join(tmpdir(), 'tsvmm-example-')), 'kernel');
    writeFileSync(kernel, tinyKernel('', ENDINGS.poweroff));
    expect(await boot(kernel)).toBe('poweroff');
  });
});
