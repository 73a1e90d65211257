import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { findPostgresBinaries } from '../../src/targets/postgres/binaries.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-corruption-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);
const output = (journal: Journal, step: string) => journal.steps.find((s) => s.name === step)?.output as Record<string, unknown> | undefined;
const failedChecks = (journal: Journal) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);

async function run(file: string, env?: Record<string, string>): Promise<{ code: number | null; stdout: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, stdout: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

describe('corruption variants, restores and their verification (real PostgreSQL, real CLI)', () => {
  it('pg-restore-from-backup passes: the file loss is restored from the backup before the fault, the accepted loss is reported', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('pg-restore-from-backup.yaml'));
    expect(code, stdout).toBe(0);
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/could not open file .*No such file or directory/);
    expect(output(journal, 'assess-corruption')).toMatchObject({ extent: { summary: expect.stringMatching(/table transfers: data file missing/) } });
    const restore = output(journal, 'restore-base-backup')!;
    expect(restore).toMatchObject({ backup: 'backup-1', checksums: { checked: true, badBlocks: [] } });
    expect((restore.lost as { writesAcknowledgedAfterBackup: number }).writesAcknowledgedAfterBackup).toBeGreaterThan(10);
    // The loss is measured and named, and within the RPO this scenario accepts.
    expect(journal.measurements.lostWrites).toBeGreaterThan(10);
    expect(journal.measurements.rpoMs).toBeGreaterThan(2000);
    expect(stdout).toMatch(/PASS rpo: RPO [\d.]+s within 1m: \d+ acknowledged writes lost \(ids \d+-\d+/);
    expect(journal.integrity?.tables).toEqual(journal.snapshot?.tables);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-logical-corruption-pitr passes: restored to the time just before the DELETE, data equal to the snapshot', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('pg-logical-corruption-pitr.yaml'));
    expect(code, stdout).toBe(0);
    const fault = journal.events.find((e) => e.kind === 'fault')!;
    expect(fault.data).toMatchObject({ statement: 'delete from "transfers"', rows: 3000 });
    const before = (fault.data as { beforeFault: { time: string } }).beforeFault;
    expect(output(journal, 'pitr-restore')).toMatchObject({ target: { kind: 'time', time: before.time }, backup: 'backup-1' });
    expect(journal.snapshot?.tables.transfers?.rows).toBe(3000);
    expect(journal.integrity?.tables).toEqual(journal.snapshot?.tables);
    expect(journal.integrity?.amcheck).toEqual([]);
    // Only the writes between the recorded time and the DELETE can be lost: every write
    // acknowledged before the injector started (and so before that time) survives, however long
    // the injector took to archive its restore point (a loaded machine stretches it).
    const lastAckBefore = (t: number) => journal.canary.acks.filter((a) => a.tAck <= t).at(-1)!.tAck;
    const injectStart = journal.phases.find((p) => p.name === 'inject')!.start.t;
    expect(journal.measurements.rpoMs).toBeGreaterThanOrEqual(0);
    expect(journal.measurements.rpoMs).toBeLessThanOrEqual(lastAckBefore(journal.marks.tFault!.t) - lastAckBefore(injectStart));
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-index-corruption-detect passes: plain reads never fail, amcheck finds the index, REINDEX repairs it, nothing lost', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('pg-index-corruption-detect.yaml'));
    expect(code, stdout).toBe(0);
    const tFault = journal.marks.tFault!.t;
    const afterFault = journal.probes.filter((p) => p.t >= tFault);
    expect(afterFault.filter((p) => p.probe === 'transfers-readable').every((p) => p.ok)).toBe(true);
    expect(afterFault.some((p) => p.probe === 'index-amcheck' && !p.ok && /item order invariant violated/.test(p.error ?? ''))).toBe(true);
    expect(output(journal, 'assess-corruption')).toMatchObject({
      extent: { damaged: [expect.objectContaining({ relation: 'transfers_pkey', kind: 'index', table: 'transfers', repair: 'reindex' })] },
    });
    expect(output(journal, 'reindex')).toMatchObject({ chosenBy: 'amcheck', rebuilt: [expect.objectContaining({ index: 'transfers_pkey' })] });
    expect(journal.integrity?.amcheck).toEqual([]);
    expect(journal.integrity?.pageChecksumFailures).toBe(0);
    expect(journal.measurements.lostWrites ?? 0).toBe(0);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control pg-restore-skips-verification: the unverified backup carries the damaged page, integrity fails (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('pg-restore-skips-verification.yaml'));
    expect(code, stdout).toBe(1);
    // The service looked recovered; only integrity can tell.
    expect(failedChecks(journal)).toEqual(['integrity']);
    expect(stdout).toMatch(/FAIL integrity: integrity failed: .*amcheck \(heap transfers block 1: invalid page in block 1/);
    expect(stdout).toMatch(/page-checksums \(\d+ page checksum failures?\)/);
    expect(output(journal, 'take-base-backup')).toMatchObject({ pageChecksumsVerified: false });
    expect(output(journal, 'restore-base-backup')).toMatchObject({ backup: 'backup-2', verification: 'not verified (verify: false)', checksums: 'not verified (verify: false)' });
    expect(journal.integrity?.instance).toBe('recovered-1');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('a PITR target beyond the archive fails the restore step with what to do (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(fixture('pitr-beyond-archive.yaml'));
    expect(code, stdout).toBe(1);
    const step = journal.steps.find((s) => s.name === 'pitr-restore')!;
    expect(step.status).toBe('failed');
    expect(step.error).toMatchObject({ code: 'PITR_TARGET_NOT_REACHED', message: expect.stringMatching(/archive ends before it.*Choose an earlier target/) });
    expect(journal.steps.find((s) => s.name === 'switch-workload')?.status).toBe('skipped');
    expect(failedChecks(journal)).toContain('recovery-steps');
    expect(stdout).toMatch(/FAIL recovery-steps: .*pitr-restore failed \(PITR_TARGET_NOT_REACHED/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('a verification that cannot run here is an environment failure, never a verdict: exit 3 with what to do', async () => {
    // This machine's PostgreSQL binaries without the verification tools, as on a server-only install.
    const bindir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-bindir-'));
    // The servers run as the postgres user when the tests run as root: it must reach the tools.
    chmodSync(bindir, 0o755);
    try {
      const real = findPostgresBinaries().bindir;
      for (const tool of readdirSync(real).filter((t) => t !== 'pg_verifybackup' && t !== 'pg_checksums')) symlinkSync(path.join(real, tool), path.join(bindir, tool));
      const { code, stdout, journal, runDir } = await run(scenario('pg-logical-corruption-pitr.yaml'), { DRILL_PG_BINDIR: bindir });
      expect(code, stdout).toBe(3);
      expect(journal.status).toBe('environment-error');
      expect(journal.error).toMatchObject({ code: 'VERIFY_UNAVAILABLE', message: expect.stringMatching(/pg_verifybackup is not in .*install it .* or set verify: false/) });
      expect(journal.steps.find((s) => s.name === 'pitr-restore')).toMatchObject({ status: 'error', error: { code: 'VERIFY_UNAVAILABLE' } });
      // Not judged: a recovery that could not be checked is neither a pass nor a failed runbook.
      expect(journal.verdicts).toEqual([]);
      expect(leftovers(runDir)).toEqual([]);
    } finally {
      rmSync(bindir, { recursive: true, force: true });
    }
  });
});
