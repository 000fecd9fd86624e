import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'kvm-ioctls', include: ['test/**/*.test.ts'] },
});
