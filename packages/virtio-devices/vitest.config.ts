import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'virtio-devices', include: ['test/**/*.test.ts'] },
});
