import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'virtio-queue', include: ['test/**/*.test.ts'] },
});
