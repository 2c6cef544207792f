import { defineConfig } from 'vitest/config';

// Unit tests (tests/unit) are pure and run in parallel. Integration tests (tests/integration)
// start real containers as root; they run one file at a time so that host-wide checks
// (the leak check in tests/integration/global-setup.ts) see a quiet machine.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    globalSetup: ['tests/helpers/global-setup.ts'],
  },
});
