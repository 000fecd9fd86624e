import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'test-guest',
    include: ['test/**/*.test.ts'],
    // Guests boot in well under a second; the network tests also set up a namespace.
    testTimeout: 60_000,
  },
});
