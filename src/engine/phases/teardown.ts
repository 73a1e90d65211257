import type { DrillRun } from './drill-run.js';

/** How long an interrupted or timed-out step may take to stop before teardown goes ahead anyway. */
const SETTLE_BEFORE_TEARDOWN_MS = 20_000;

/**
 * After the phases, whatever happened: lets a step still in flight reach a safe point, then runs
 * every registered teardown (newest first) as the `teardown` phase, and closes the journal.
 */
export async function tearDown(run: DrillRun): Promise<void> {
  const { recorder, journal } = run;
  await run.settle(SETTLE_BEFORE_TEARDOWN_MS);
  const failures = await recorder
    .activity('phase', 'teardown', 'Teardown', async () => {
      const failed = await run.teardown.runAll();
      return failed.length ? { failures: failed } : { failures: [] };
    })
    .catch(() => undefined);
  if (failures && (failures.failures as unknown[]).length > 0) {
    recorder.event('teardown-failed', `teardown left problems: ${JSON.stringify(failures.failures)}`);
  }
  journal.status = run.status;
  journal.endedAt = new Date().toISOString();
}
