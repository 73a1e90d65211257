import { defineConfig } from 'vitest/config';

// The README's test command. Unit tests and integration tests against real PostgreSQL;
// drills/ is run by `drill run` through vitest.drill.config.ts instead.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // Integration tests start PostgreSQL clusters; two cores do not want many at once.
    maxWorkers: 2,
  },
});
