import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ensureGuestKit } from '../src/guest-kit.js';
import { PACKAGE_ROOT } from '../src/inputs.js';

describe('README', () => {
  it('opens with examples/readme.ts, which runs and prints the outputs and a command line', async () => {
    const readme = await readFile(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(await readFile(join(PACKAGE_ROOT, 'examples', 'readme.ts'), 'utf8'));

    const kit = await ensureGuestKit({ log: () => {} });
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => printed.push(line));
    try {
      await import('../examples/readme.js');
    } finally {
      spy.mockRestore();
    }
    expect(printed[0]).toContain(kit.manifest.outputs.vmlinux.sha256);
    expect(printed[1]).toBe(`${kit.cmdline} tsvmm.run=${Buffer.from('uname -r; exit 3').toString('base64')}`);
  });
});
