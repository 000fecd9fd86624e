import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'vmm-sys-util', include: ['test/**/*.test.ts'] },
});
