import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['packages/*/src/index.ts', 'packages/*/src/native.ts', 'packages/*/src/**/*.d.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: {
        'packages/linux-loader/src/**': { lines: 90 },
        'packages/kvm-ioctls/src/**': { lines: 90 },
        'packages/vm-device/src/**': { lines: 90 },
        'packages/vm-memory/src/**': { lines: 90 },
        'packages/virtio-queue/src/**': { lines: 90 },
        'packages/vm-superio/src/**': { lines: 90 },
      },
    },
  },
});
