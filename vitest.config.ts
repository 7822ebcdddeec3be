import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores on CI: two workers, each decoding single-threaded.
    maxWorkers: 2,
  },
});
