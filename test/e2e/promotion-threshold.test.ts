import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogueScenario, failedChecks, leftovers, ROOT, runScenario, verdictOf } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-threshold-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

interface Unreachable {
  waitedMs: number;
  unreachableForMs: number;
  tries: number;
  lastError: string;
}

describe('promote-replica with a failover threshold (unreachableFor), real PostgreSQL and replica', () => {
  it('pg-primary-unreachable-promotion passes: promoted only after 3 s of failed tries, and that wait is in the RTO', async () => {
    const { code, stdout, journal, runDir } = await runScenario(catalogueScenario('pg-primary-unreachable-promotion.yaml'), reportsDir);
    expect(code, stdout).toBe(0);
    const promote = journal.steps.find((s) => s.name === 'promote-replica')!;
    const unreachable = (promote.output as { unreachable: Unreachable }).unreachable;
    expect(unreachable.unreachableForMs).toBeGreaterThanOrEqual(3_000);
    expect(unreachable.tries).toBeGreaterThanOrEqual(4);
    expect(unreachable.lastError.length).toBeGreaterThan(0);
    // The step took at least the threshold, and the service was not back before it ended.
    expect(promote.end!.t - promote.start.t).toBeGreaterThanOrEqual(3_000);
    expect(journal.measurements.rtoMs).toBeGreaterThanOrEqual(3_000);
    expect(journal.events.some((e) => e.kind === 'primary-unreachable')).toBe(true);
    expect(verdictOf(journal, 'rpo')?.status).toBe('passed');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-promotion-threshold-too-long (negative control) fails on RTO: the 40 s threshold outlasts the 30 s objective', async () => {
    const { code, stdout, journal, runDir } = await runScenario(catalogueScenario('pg-promotion-threshold-too-long.yaml'), reportsDir);
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['rto']);
    const promote = journal.steps.find((s) => s.name === 'promote-replica')!;
    expect((promote.output as { unreachable: Unreachable }).unreachable.unreachableForMs).toBeGreaterThanOrEqual(40_000);
    // The step that restores the service ended past the objective, so no RTO could meet it; the
    // measured RTO (when stability was observed: on a loaded machine a probe may still time out
    // and the verdict says "never stabilised" instead) is past it too.
    const restoring = journal.steps.find((s) => s.name === 'switch-workload')!;
    expect(restoring.end!.t - journal.marks.tFault!.t).toBeGreaterThan(30_000);
    if (journal.measurements.rtoMs !== undefined) expect(journal.measurements.rtoMs).toBeGreaterThan(30_000);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('a primary that comes back before the threshold is not failed over: the step fails, nothing is promoted', async () => {
    const { code, stdout, journal, runDir } = await runScenario(path.join(ROOT, 'test/fixtures/scenarios/promotion-threshold-primary-back.yaml'), reportsDir);
    expect(code, stdout).toBe(1);
    const promote = journal.steps.find((s) => s.name === 'promote-replica')!;
    expect(promote.status).toBe('failed');
    expect(promote.error?.code).toBe('PRIMARY_STILL_REACHABLE');
    expect(promote.error?.message).toMatch(/was not unreachable for 5s in a row within [\d.]+s.*nothing was promoted/);
    expect(failedChecks(journal)).toContain('recovery-steps');
    // Nothing was promoted: the replica is still a standby (no split-brain risk was created).
    expect(journal.events.some((e) => e.kind === 'split-brain-risk')).toBe(false);
    expect(journal.steps.find((s) => s.name === 'switch-workload')?.status).toBe('skipped');
    expect(leftovers(runDir)).toEqual([]);
  }, 300_000);
});
