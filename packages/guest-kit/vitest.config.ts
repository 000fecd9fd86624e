import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'guest-kit',
    include: ['test/**/*.test.ts'],
    // The kit is built by `pnpm guest:build` before the suite; when it is not,
    // the first test builds it (several minutes on two cores).
    hookTimeout: 3_600_000,
    testTimeout: 600_000,
  },
});
