import { defineConfig } from 'vitest/config';

// The README's test command. Unit tests and integration tests against real PostgreSQL (the
// service under drill's own tests, sut/*/test, included);
// drills/ is run by `drill run` through vitest.drill.config.ts instead.
// test/containers/ needs a Docker engine in the test's network namespace: `npm run test:containers`
// starts drill's own (tools/local-docker.sh) and runs that project inside it; elsewhere it skips.
// Under `npm test`, tools/with-drill-network.ts gives the run a temp dir of its own, in the run
// ledger: what tests mkdtemp there is reaped after a kill -9. Not for the kubernetes project: a
// real node's containerd socket path, nested that much deeper, would pass the 107-byte limit.
const testTmp = process.env.DRILL_TEST_TMPDIR ? { env: { TMPDIR: process.env.DRILL_TEST_TMPDIR } } : {};

export default defineConfig({
  test: {
    // test/kubernetes/ shares one local Kubernetes control plane, started by the globalSetup only
    // when a file of that project runs (vitest skips the globalSetup of a project with no files).
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          ...testTmp,
          include: ['test/**/*.test.ts', 'sut/*/test/**/*.test.ts'],
          exclude: ['test/kubernetes/**', 'test/e2e/**', 'test/containers/**'],
        },
      },
      // Each e2e test runs whole drills through the CLI (~30 s alone). On a loaded 2-core machine
      // (two CPU hogs beside the suite) the slowest took 83 s; the drills' own timeouts bound a hang.
      { extends: true, test: { name: 'e2e', ...testTmp, include: ['test/e2e/**/*.test.ts'], testTimeout: 300_000 } },
      // Drills and steps on real nodes: real containers start, pass readiness and are rolled over;
      // a drill through the CLI also provisions its own PostgreSQL (1-3 min on a loaded machine).
      {
        extends: true,
        test: {
          name: 'kubernetes',
          include: ['test/kubernetes/**/*.test.ts'],
          globalSetup: ['test/support/control-plane-setup.ts'],
          testTimeout: 420_000,
          hookTimeout: 300_000,
        },
      },
      // Its drills run two at a time in one file (pg-scenarios.test.ts) on the engine of the run.
      { extends: true, test: { name: 'containers', include: ['test/containers/**/*.test.ts'], maxConcurrency: 2 } },
    ],
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // Integration tests start PostgreSQL clusters; two cores do not want many at once.
    maxWorkers: 2,
  },
});
