import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'linux-loader', include: ['test/**/*.test.ts'] },
});
