import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyEvidence } from '../../src/report/evidence.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { expectConservativeRto } from './rto-evidence.js';

interface AllureStep {
  name: string;
  start: number;
  stop: number;
  steps: AllureStep[];
  attachments?: Array<{ name: string }>;
}
interface AllureResult extends AllureStep {
  status: string;
  labels: Array<{ name: string; value: string }>;
  parameters: Array<{ name: string; value: string }>;
  attachments: Array<{ name: string }>;
}

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-reports-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);

describe('drill run (real PostgreSQL, real CLI)', () => {
  it('db-corruption-pitr passes, with measured RTO/RPO and every artifact', async () => {
    const result = await runCli(['run', scenario('db-corruption-pitr.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    for (const artifact of ['allure-results', 'journal.json', 'incident-report.md', 'evidence/manifest.json']) {
      expect(existsSync(path.join(runDir, artifact)), artifact).toBe(true);
    }
    const journal = readJournal(runDir);
    expect(journal.status).toBe('passed');
    const { tFault } = journal.marks;
    const m = journal.measurements;
    // Measured, not configured: RTO is never before every probe saw the service back and
    // switch-workload (the step the scenario says restores it) ended, and not later either.
    expect(m.rtoMs).toBeGreaterThan(0);
    expect(tFault!.t + m.rtoMs!).toBeLessThanOrEqual(journal.marks.tVerified!.t);
    expectConservativeRto(journal, 'switch-workload');
    // The fault is seen from T_fault on, never before it: no sample before it met the damage.
    const beforeFault = journal.probes.filter((p) => p.t < tFault!.t);
    expect(beforeFault.filter((p) => /invalid page/.test(p.error ?? ''))).toEqual([]);
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/invalid page in block/);
    // Every write acknowledged before the injector started was committed before the restore point
    // the PITR aims at, so at most the writes from then to T_fault are lost, however long the
    // injector took (a loaded machine stretches it).
    const lastAckBefore = (t: number) => journal.canary.acks.filter((a) => a.tAck <= t).at(-1)!.tAck;
    const injectStart = journal.phases.find((p) => p.name === 'inject')!.start.t;
    expect(m.rpoMs).toBeGreaterThanOrEqual(0);
    expect(m.rpoMs).toBeLessThanOrEqual(lastAckBefore(tFault!.t) - lastAckBefore(injectStart));
    expect(journal.canary.acks.length).toBeGreaterThan(20);
    // The base backup is taken inside the steady state, which is never cut short by it.
    const baseline = journal.phases.find((p) => p.name === 'baseline')!;
    const backupAt = journal.events.find((e) => e.kind === 'base-backup')!.t;
    expect(backupAt).toBeGreaterThan(baseline.start.t);
    expect(injectStart - baseline.start.t).toBeGreaterThanOrEqual(journal.scenario.definition.baseline.steadyState);
    expect(journal.integrity?.amcheck).toEqual([]);
    const assess = journal.steps.find((s) => s.name === 'assess-corruption');
    expect(JSON.stringify(assess?.output)).toMatch(/invalid page in block 0/);
    expect(JSON.stringify(assess?.output)).toMatch(/"block":3/);
    expect(leftovers(runDir)).toEqual([]);
    // Sealed last: every file the run left is in the manifest, nothing came after it.
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true, problems: [], origin: 'unsigned' });

    // Allure: one test with the runbook labels, each phase and runbook step a timed step.
    const results = readdirSync(path.join(runDir, 'allure-results')).filter((f) => f.endsWith('-result.json'));
    expect(results).toHaveLength(1);
    const allure = JSON.parse(readFileSync(path.join(runDir, 'allure-results', results[0]!), 'utf8')) as AllureResult;
    expect(allure.status).toBe('passed');
    const labels = Object.fromEntries(allure.labels.map((l) => [l.name, l.value]));
    expect(labels).toMatchObject({ epic: 'Disaster recovery drills', feature: 'Scenario 2: Database Corruption', severity: 'blocker' });
    const phases = allure.steps.map((s) => s.name);
    expect(phases).toEqual(expect.arrayContaining(['Provision', 'Baseline (steady state)', 'Inject fault', 'Detect', 'Recover (runbook steps)', 'Teardown']));
    const recover = allure.steps.find((s) => s.name === 'Recover (runbook steps)')!;
    expect(recover.steps.map((s) => s.name)).toEqual([
      'Identify corruption extent',
      'Stop write operations (read-only mode)',
      'Restore from point-in-time backup',
      'Update application connection to the restored instance',
    ]);
    for (const step of recover.steps) expect(step.stop - step.start).toBeGreaterThanOrEqual(0);
    // allure-js 3 files a test-level attachment as a step carrying it.
    const attachments = [...allure.attachments, ...allure.steps.flatMap((s) => s.attachments ?? [])];
    expect(attachments.map((a) => a.name)).toEqual(
      expect.arrayContaining(['journal.json', 'incident-report.md', 'measurements.json', 'timeline.txt']),
    );
    const report = readFileSync(path.join(runDir, 'incident-report.md'), 'utf8');
    expect(report).toMatch(/^# Incident Report: /);
    expect(report).toContain('## Timeline');
    // The RTO is shown as the upper bound it is, with the bracket the true restoration lies in.
    const bounds = /RTO ≤ [\dhms.]+ \(restored between T_fault\+[\dhms.]+ and T_fault\+[\dhms.]+\)/;
    expect(report).toMatch(new RegExp(`\\*\\*Duration\\*\\*: ${bounds.source}`));
    expect(allure.parameters.find((p) => p.name === 'RTO')?.value).toMatch(bounds);
  });

  it('db-corruption-stale-backup fails on RPO, names the lost writes, exits 1', async () => {
    const result = await runCli(['run', scenario('db-corruption-stale-backup.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rpo: RPO \d[\d.]*s exceeds 2s: \d+ acknowledged writes lost \(ids \d+-\d+/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['rpo']);
    expect(journal.measurements.rpoMs).toBeGreaterThan(4000);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('fails RTO when recovery is slower than the objective (exit 1); this drill imports the harness from source', async () => {
    // Every other drill of the suite runs the prebuilt harness (src/cli/harness-bundle.ts): this
    // one keeps the path a read-only install or DRILL_HARNESS_FROM_SOURCE=1 takes working.
    const result = await runCli(['run', fixture('rto-too-tight.yaml'), '--reports-dir', reportsDir], { env: { DRILL_HARNESS_FROM_SOURCE: '1' } });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rto: /);
    const journal = readJournal(runDirFrom(result.stdout, reportsDir));
    expect(journal.verdicts.find((v) => v.check === 'rto')?.status).toBe('failed');
  });

  it('Ctrl-C during recovery: exit 130, teardown ran, nothing left behind', async () => {
    let sent = false;
    const result = await runCli(['run', scenario('db-corruption-pitr.yaml'), '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (!sent && /Restore from point-in-time backup …/.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.status).toBe('interrupted');
    expect(journal.phases.find((p) => p.name === 'teardown')?.status).toBe('passed');
    expect(leftovers(runDir)).toEqual([]);
    const evidence = await verifyEvidence(runDir);
    expect(evidence.problems).toEqual([]);
    expect(evidence.manifest?.entries.map((e) => e.path)).toContain('interrupt-requested');
  });

  it('a drill that exceeds its timeout is an environment failure (exit 3) and cleans up', async () => {
    const result = await runCli(['run', fixture('drill-timeout.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/did not finish within its timeout/);
    expect(leftovers(runDirFrom(result.stdout, reportsDir))).toEqual([]);
  });

  it('a recovery step that runs out of its time fails the drill on recovery-steps (exit 1)', async () => {
    const result = await runCli(['run', fixture('step-timeout.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const step = journal.steps.find((s) => s.name === 'pitr-restore');
    expect(step?.status).toBe('failed');
    expect(step?.error?.code).toBe('STEP_TIMEOUT');
    expect(journal.steps.find((s) => s.name === 'switch-workload')?.status).toBe('skipped');
    expect(journal.verdicts.find((v) => v.check === 'recovery-steps')?.status).toBe('failed');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('a timeout during provisioning still yields a journal, exit 3, and nothing left behind', async () => {
    const result = await runCli(['run', fixture('drill-timeout-in-provision.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    const runDir = runDirFrom(result.stdout, reportsDir);
    expect(readJournal(runDir).error?.code).toBe('DRILL_TIMEOUT');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('no PostgreSQL binaries: exit 3 with what to do', async () => {
    const result = await runCli(['run', scenario('db-corruption-pitr.yaml'), '--reports-dir', reportsDir], {
      env: { DRILL_PG_BINDIR: '/nonexistent/postgresql/bin' },
    });
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/no PostgreSQL server binaries .* DRILL_PG_BINDIR/);
  });
});
