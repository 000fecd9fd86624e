import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'vm-memory', include: ['test/**/*.test.ts'] },
});
