import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'vm-superio', include: ['test/**/*.test.ts'] },
});
