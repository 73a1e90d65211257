import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { readPlan } from './src/engine/run-plan.js';

// Used by `drill run` only: one drill per vitest process, results into the run's allure-results/.
const plan = readPlan();

export default defineConfig({
  test: {
    include: ['drills/drill.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // Each drill is a vitest process of its own: without a cache on disk, each transforms the
    // harness again (seconds per drill). Keyed by file content; under node_modules, so a new
    // install starts it afresh.
    experimental: { fsModuleCache: true },
    reporters: [
      'default',
      ['allure-vitest/reporter', { resultsDir: plan ? path.join(plan.runDir, 'allure-results') : 'allure-results' }],
    ],
  },
});
