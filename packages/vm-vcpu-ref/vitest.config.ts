import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'vm-vcpu-ref', include: ['test/**/*.test.ts'] },
});
