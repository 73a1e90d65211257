import { describe, expect, it } from 'vitest';
import { joinCoverage, type JoinOptions } from '../../src/coverage/join.js';
import type { CoverageReport } from '../../src/coverage/types.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { runbookRecord } from '../../src/runbook/runbook-record.js';
import { IDS, parsed, shippedRunbook, shippedText } from '../runbook/shipped-runbook.js';
import { journalOf, shippedScenario } from './journal-of.js';

const NOW = new Date('2025-10-01T12:00:00Z');
const DAY = 86_400_000;
const options: JoinOptions = { now: NOW, sinceMs: 90 * DAY, sinceText: '90d', reportsDir: 'reports' };
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY).toISOString();

const IDENTIFY = `${IDS.dataRecovery}#identify-corruption-extent`;
const PITR = `${IDS.dataRecovery}#restore-from-point-in-time-backup`;
const VERIFY = `${IDS.dataRecovery}#verify-restored-data`;
const STOP = `${IDS.scenario2}/immediate-response#stop-write-operations`;
const SCAN = `${IDS.consistency}#check-for-data-corruption`;

const status = (report: CoverageReport, id: string) => report.procedures.find((p) => p.id === id)!;
const join = (journals: Journal[], runbook = shippedRunbook()) => joinCoverage(runbook, journals, options);

describe('coverage join (pure: runbook × journals)', () => {
  it('a passing drill within --since covers what its steps, checks and covers: perform in its sections; the rest is never drilled', async () => {
    const pitr = await shippedScenario('db-corruption-pitr');
    const report = join([journalOf(pitr, { status: 'passed', endedAt: daysAgo(1), rtoMs: 41_234, rpoMs: 120 })]);
    const covered = report.procedures.filter((p) => p.status === 'covered').map((p) => p.id);
    expect(covered).toEqual([STOP, IDENTIFY, PITR, VERIFY, `${IDS.consistency}#check-record-counts`, `${IDS.consistency}#verify-data-relationships`, SCAN]);
    expect(status(report, PITR)).toMatchObject({
      drills: ['db-corruption-pitr'],
      textCheck: 'not-recorded',
      last: { scenario: 'db-corruption-pitr', status: 'passed', rto: { measuredMs: 41_234, objectiveMs: 900_000, verdict: 'passed' }, rpo: { measuredMs: 120, objectiveMs: 300_000, verdict: 'passed' } },
    });
    expect(status(report, STOP).how).toEqual([expect.stringMatching(/^recovery\[1\] stop-writes: database side/)]);
    expect(report.totals).toMatchObject({ procedures: 66, covered: 7, neverDrilled: 59, ratio: 7 / 66 });
    expect(report.neverDrilled).toContain(`${IDS.option3}#switch-dns-to-backup-region`);
    expect(report.neverDrilled.filter((id) => id.startsWith(IDS.scenario3))).toHaveLength(7);
    expect(report.notes).toEqual([]);
  });

  it('a service drill: its verify steps perform the runbook\'s smoke tests and performance validation, its switch the API restart where it follows that section', async () => {
    const service = await shippedScenario('db-corruption-pitr-service');
    const report = join([
      journalOf(service, {
        status: 'passed',
        endedAt: daysAgo(1),
        steps: [{}, {}, {}, { output: { to: 'pitr-1', service: { version: { from: '4.4.0', to: '4.4.0' }, restarted: ['api', 'worker', 'scheduler', 'reader'] } } }],
        verifications: [{}, {}],
      }),
    ]);
    const covered = report.procedures.filter((p) => p.status === 'covered').map((p) => p.id);
    expect(covered.filter((id) => id.startsWith(IDS.postRecovery))).toEqual([
      `${IDS.postRecovery}/smoke-tests#basic-functionality-test`,
      `${IDS.postRecovery}/smoke-tests#user-journey-tests`,
      `${IDS.postRecovery}/smoke-tests#integration-tests`,
      `${IDS.postRecovery}/performance-validation#load-test-to-verify-capacity`,
      `${IDS.postRecovery}/performance-validation#response-time-verification`,
    ]);
    expect(status(report, `${IDS.postRecovery}/smoke-tests#user-journey-tests`).how).toEqual([expect.stringMatching(/^verify\[0\] smoke: smoke after the restored instant: a transfer created/)]);
    expect(status(report, `${IDS.postRecovery}/performance-validation#database-performance-check`).status).toBe('never-drilled');
    // "Restart application pods" is Primary Database Failure's, outside this drill's sections.
    expect(covered).not.toContain('recovery-procedures-by-component/database-recovery/primary-database-failure#restart-application-pods');
    expect(covered).toEqual(expect.arrayContaining([STOP, IDENTIFY, PITR, VERIFY]));
  });

  it('stale past --since; failing when the latest drill performing it failed, whichever scenario that is', async () => {
    const pitr = await shippedScenario('db-corruption-pitr');
    const index = await shippedScenario('pg-index-corruption-detect');
    const logical = await shippedScenario('pg-logical-corruption-pitr');
    const report = join([
      journalOf(pitr, { status: 'passed', endedAt: daysAgo(120) }),
      journalOf(index, { status: 'passed', endedAt: daysAgo(3) }),
      journalOf(logical, { status: 'failed', endedAt: daysAgo(2), rtoMs: 1_000_000 }),
    ]);
    // Only the old pitr drill does a record count: stale.
    expect(status(report, `${IDS.consistency}#check-record-counts`)).toMatchObject({ status: 'stale', drills: ['db-corruption-pitr'] });
    // The index drill (3 days, passed) is the latest to identify the extent; the logical one does not.
    expect(status(report, IDENTIFY)).toMatchObject({ status: 'covered', drills: ['pg-index-corruption-detect', 'db-corruption-pitr'] });
    // The logical drill (2 days, failed) is the latest to restore and to verify.
    expect(status(report, PITR)).toMatchObject({ status: 'failing', drills: ['pg-logical-corruption-pitr', 'db-corruption-pitr'], last: { rto: { verdict: 'failed' } } });
    expect(status(report, VERIFY).status).toBe('failing');
    expect(report.totals).toMatchObject({ covered: 2, stale: 2, failing: 3 });
  });

  it('only the latest judged run of a scenario counts; an unjudged newer one is a note', async () => {
    const pitr = await shippedScenario('db-corruption-pitr');
    const older = journalOf(pitr, { status: 'failed', endedAt: daysAgo(10) });
    const newer = journalOf(pitr, { status: 'passed', endedAt: daysAgo(5) });
    const broken = journalOf(pitr, { status: 'environment-error', endedAt: daysAgo(1) });
    expect(status(join([older, newer]), PITR).status).toBe('covered');
    expect(status(join([newer, journalOf(pitr, { status: 'failed', endedAt: daysAgo(4) })]), PITR).status).toBe('failing');
    const report = join([older, newer, broken]);
    expect(status(report, PITR)).toMatchObject({ status: 'covered', last: { runId: newer.runId } });
    expect(report.notes).toEqual([expect.objectContaining({ kind: 'unjudged-run', runId: broken.runId, message: expect.stringMatching(/ended environment-error and judged nothing; its latest judged run .* counts/) })]);
  });

  it('a failed run still answers for the steps it never reached: their procedure is failing, not covered', async () => {
    const pitr = await shippedScenario('db-corruption-pitr');
    const report = join([journalOf(pitr, { status: 'failed', endedAt: daysAgo(1), steps: [{}, { status: 'failed' }, { status: 'skipped' }, { status: 'skipped' }] })]);
    expect(status(report, PITR).status).toBe('failing');
  });

  it('negative controls count for nothing and are listed: failed as they must, or passed (the harness missed it)', async () => {
    const stale = await shippedScenario('db-corruption-stale-backup');
    const failed = join([journalOf(stale, { status: 'failed', endedAt: daysAgo(1) })]);
    expect(failed.totals.covered + failed.totals.failing).toBe(0);
    expect(failed.negativeControls).toEqual([expect.objectContaining({ scenario: 'db-corruption-stale-backup', asExpected: true })]);
    const passed = join([journalOf(stale, { status: 'passed', endedAt: daysAgo(1) })]);
    expect(passed.totals.covered).toBe(0);
    expect(passed.negativeControls).toEqual([expect.objectContaining({ asExpected: false })]);
  });

  it('changed since drilled: the recorded text of the procedure differs (or it is new); same text stays covered', async () => {
    const index = await shippedScenario('pg-index-corruption-detect');
    const original = shippedRunbook();
    const record = runbookRecord(original, index);
    expect(Object.keys(record.procedures)).toEqual([...original.procedures.filter((p) => p.sectionId.startsWith(IDS.scenario2)).map((p) => p.id), SCAN]);
    const journal = journalOf(index, { status: 'passed', endedAt: daysAgo(1), runbook: record });
    const same = join([journal]);
    expect([IDENTIFY, VERIFY, SCAN].map((id) => [status(same, id).status, status(same, id).textCheck])).toEqual(Array(3).fill(['covered', 'same']));

    const edited = parsed(shippedText().replace('./scripts/database/analyze-corruption.sh', './scripts/database/analyze-corruption.sh --all-relations'));
    const after = join([journal], edited);
    expect(status(after, IDENTIFY)).toMatchObject({ status: 'changed', textCheck: 'changed', last: { status: 'passed' } });
    expect(status(after, VERIFY).status).toBe('covered');
    expect(after.totals).toMatchObject({ covered: 2, changed: 1 });
  });

  it('a runbook: that names no section and covers: ids the runbook lacks are notes with a suggestion', async () => {
    const index = await shippedScenario('pg-index-corruption-detect');
    const renamed = { ...index, runbook: 'Scenario 2: Database Corrupton', covers: [`${IDS.consistency}#check-for-data-corruptoin`] };
    const report = join([journalOf(renamed, { status: 'passed', endedAt: daysAgo(1) })]);
    expect(report.totals.covered).toBe(0);
    expect(report.notes).toEqual([
      expect.objectContaining({ kind: 'section-not-found', scenario: 'pg-index-corruption-detect', suggestion: 'Scenario 2: Database Corruption' }),
      expect.objectContaining({ kind: 'unknown-covers', message: expect.stringMatching(/covers: ".*#check-for-data-corruptoin" is no procedure/), suggestion: SCAN }),
    ]);
  });

  it('the circuit breaker performs the auto-rollback script only when it tripped', async () => {
    const breaker = await shippedScenario('k8s-auto-rollback-circuit-breaker');
    const rollback = 'automated-recovery-scripts/auto-rollback-script#scripts-emergency-auto-rollback-sh';
    const run = (tripped: boolean) => join([journalOf(breaker, { status: 'passed', endedAt: daysAgo(1), steps: [{ output: { tripped } }] })]);
    expect(status(run(true), rollback).status).toBe('covered');
    expect(status(run(false), rollback).status).toBe('never-drilled');
    expect(status(run(false), 'automated-recovery-scripts/circuit-breaker-implementation#scripts-monitoring-circuit-breaker-sh').status).toBe('covered');
  });

  it('no journals at all: everything never drilled, and a note that says what to run', () => {
    const report = join([]);
    expect(report.totals).toMatchObject({ covered: 0, neverDrilled: 66, ratio: 0 });
    expect(report.notes).toEqual([expect.objectContaining({ kind: 'no-journals', message: expect.stringMatching(/no drill journals in reports.*npx drill run/) })]);
  });
});
