import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'vm-device', include: ['test/**/*.test.ts'] },
});
