import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-migration-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);

describe('schema rollback drills (real PostgreSQL, real CLI)', () => {
  it('pg-bad-migration-rollback passes: detected, rolled back to 007, nothing lost, the writer resumes', async () => {
    const result = await runCli(['run', scenario('pg-bad-migration-rollback.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.status).toBe('passed');
    expect(journal.components.schemaVersion).toBe('007');

    const faults = journal.events.filter((e) => e.kind === 'fault').map((e) => e.data?.migration);
    expect(faults).toEqual(['008-add-required-column-drill-canary-region', '009-rename-column-transfers-amount']);
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/column "amount" does not exist/);

    const output = (name: string) => journal.steps.find((s) => s.name === name)?.output;
    expect(output('migration-status')).toMatchObject({ current: '009', pending: [] });
    expect(output('migration-rollback')).toMatchObject({
      from: '009',
      to: '007',
      reverted: ['009-rename-column-transfers-amount', '008-add-required-column-drill-canary-region'],
      current: '007',
      schemaMatchesVersion: true,
    });
    expect(output('migration-current')).toMatchObject({ current: '007', schemaMatchesVersion: true });

    // Writes failed while 008 was applied, none was acknowledged and lost, and the writer went on
    // by itself after the rollback: no restore, no retarget.
    expect(journal.canary.failures).toBeGreaterThan(0);
    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.measurements.lostWrites ?? 0).toBe(0);
    expect(journal.canary.acks.filter((a) => a.tAck > journal.marks.tRecoveryEnd!.t).length).toBeGreaterThan(5);
    expect(new Set(journal.canary.acks.map((a) => a.epoch))).toEqual(new Set([1]));
    expect(journal.integrity?.tables).toEqual(journal.snapshot?.tables);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('the writer is seen resuming after the last runbook step even when the checks after the rollback outlast the stability window', async () => {
    // A stability window complete before recovery ended used to end the drill's workload at once,
    // so no write after recovery was attempted (0 acknowledged: the gate's flake under load).
    const result = await runCli(['run', fixture('pg-migration-checks-outlast-stability.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const { tRecoveryEnd, tVerified } = journal.marks;
    const stability = journal.scenario.definition.expect.stability;
    // The checks after the rollback did outlast the window (else this test proves nothing).
    const rollbackEnd = journal.steps.find((s) => s.name === 'migration-rollback')!.end!.t;
    expect(tRecoveryEnd!.t - rollbackEnd).toBeGreaterThan(stability);
    // The workload ran for a whole window after the last step, and the writer's writes went through.
    expect(tVerified!.t - tRecoveryEnd!.t).toBeGreaterThanOrEqual(stability);
    const after = journal.canary.acks.filter((a) => a.tAck > tRecoveryEnd!.t);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(journal.phases.find((p) => p.name === 'verify')?.output).toMatchObject({ writesAckedAfterRecovery: after.length });
    expect(journal.events.filter((e) => e.kind === 'writes-not-resumed')).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control: rolled back one version too far, the lost references fail integrity (exit 1)', async () => {
    const result = await runCli(['run', fixture('pg-migration-rollback-too-far.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL integrity: integrity failed: checksums \(transfers: content checksum/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['integrity']);
    expect(journal.steps.find((s) => s.name === 'migration-rollback')?.output).toMatchObject({
      to: '003',
      reverted: ['008-rename-column-transfers-amount', '007-service-transfer-ids', '006-background-jobs', '005-api-tokens', '004-transfer-reference'],
    });
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control: a dropped column cannot be rolled back; the rollback postcondition names what is missing (exit 1)', async () => {
    const result = await runCli(['run', fixture('pg-migration-drop-column.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const rollback = journal.steps.find((s) => s.name === 'migration-rollback');
    expect(rollback?.status).toBe('failed');
    expect(rollback?.error).toMatchObject({ code: 'SCHEMA_NOT_AT_VERSION', message: expect.stringMatching(/missing CREATE UNIQUE INDEX transfers_reference_idx/) });
    expect(journal.steps.find((s) => s.name === 'migration-current')?.status).toBe('skipped');
    expect(journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check).sort()).toEqual(['integrity', 'recovery-steps']);
    expect(leftovers(runDir)).toEqual([]);
  });
});
