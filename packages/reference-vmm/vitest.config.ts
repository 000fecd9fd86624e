import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'reference-vmm', include: ['test/**/*.test.ts'] },
});
