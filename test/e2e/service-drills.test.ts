import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyEvidence } from '../../src/report/evidence.js';
import { catalogueScenario, failedChecks, filesUnder, leftovers, readJournal, runCli, runDirFrom, runScenario, verdictOf } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-service-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

/** Runs a scenario into this file's reports dir. */
const run = (file: string) => runScenario(file, reportsDir);

describe('PostgreSQL drills judged at the service (plain processes, real PostgreSQL, real HTTP, real CLI)', () => {
  it('db-corruption-pitr-service passes: probes through the service, API canary, smoke, load against the baseline, monitoring', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('db-corruption-pitr-service.yaml'));
    expect(code, stdout).toBe(0);
    expect(journal.components.truststream).toBe('4.4.0');

    // Detected where users are: the read of a seeded transfer answers 500 once its page is damaged.
    expect(verdictOf(journal, 'detection')?.message).toMatch(/probe 'transfer-readable' .*HTTP 500 internal from truststream-api-\d \/api\/transfers\/1/);
    // The failures were answered by the API processes themselves (which one varies: seen once all
    // ten from one process, so "both" is not asserted; the round-robin is tested in service-client.test.ts).
    const failing = journal.probes.filter((p) => !p.ok && p.probe === 'transfer-readable').map((p) => /truststream-api-\d/.exec(p.error ?? '')?.[0]);
    expect(failing.length).toBeGreaterThan(1);
    for (const name of failing) expect(['truststream-api-1', 'truststream-api-2']).toContain(name);

    // The canary wrote through the API; RPO and the ledger are judged from it.
    expect(journal.canary.acks.length).toBeGreaterThan(20);
    expect(journal.canary.recovered!.rows.length).toBeGreaterThan(20);
    expect(journal.canary.acks.some((a) => a.epoch === 2)).toBe(true); // it went on after the switch
    // Service writes are not corruption: the seeded rows are what the snapshot compares.
    expect(journal.snapshot!.tables.transfers!.rows).toBe(5000);
    expect(journal.integrity!.tables).toEqual(journal.snapshot!.tables);

    // switch-workload restarted the service against the recovered primary.
    const moved = journal.steps.find((s) => s.name === 'switch-workload')!.output as { to: string; port: number; service: { database: { to: string }; restarted: string[] } };
    expect(moved.service.database.to).toBe(`127.0.0.1:${moved.port}`);
    expect(moved.service.restarted).toEqual(['api', 'reader', 'worker', 'scheduler']);

    // RTO by DESIGN.md section 4, never before the step marked restoresService (switch-workload) ended.
    const switched = journal.steps.find((s) => s.name === 'switch-workload')!;
    expect(journal.marks.tFault!.t + journal.measurements.rtoMs!).toBeGreaterThanOrEqual(switched.end!.t);

    // Recovery validation, journaled and judged: after the workload ran for expect.stability past the last step.
    expect(journal.verifications?.map((v) => `${v.name} ${v.status}`)).toEqual(['smoke passed', 'load passed']);
    expect(journal.verifications![0]!.start.t).toBeGreaterThanOrEqual(journal.marks.tRecoveryEnd!.t + journal.scenario.definition.expect.stability);
    expect(journal.smoke).toHaveLength(1);
    expect(journal.smoke![0]!.checks.map((c) => `${c.name} ${c.status}`)).toEqual(['health passed', 'read passed', 'journey passed', 'integration passed']);
    // The reader (its read-only role came over with the restored cluster) answered on the recovered primary.
    expect(journal.smoke![0]!.checks[1]!.detail).toMatchObject({ reader: 'truststream-reader-1' });
    expect(journal.load!.map((r) => r.phase)).toEqual(['baseline', 'verify']);
    for (const run of journal.load!) {
      // Bounded by count or by time, whichever came first (a loaded machine may not reach the count).
      expect(run.stoppedBy === 'requests' ? run.responses === 300 : run.responses < 300 && run.durationMs >= 19_000, JSON.stringify(run)).toBe(true);
      expect(run.errors + run.non2xx).toBe(0);
    }
    expect(verdictOf(journal, 'smoke')?.status).toBe('passed');
    expect(verdictOf(journal, 'performance')?.status).toBe('passed');
    expect(journal.measurements.baselineP99Ms).toBe(journal.load![0]!.latencyMs.p99);

    // Monitoring: the outage shows as 5xx and ERROR log lines after T_fault, none in the baseline
    // (the injector stops the server before T_fault: those 503s are neither).
    const tFault = journal.marks.tFault!.t;
    const baseline = journal.phases.find((p) => p.name === 'baseline')!;
    const samples = journal.serviceMonitoring!;
    const inBaseline = samples.filter((s) => s.t > baseline.start.t && s.t <= baseline.end!.t);
    expect(inBaseline.length).toBeGreaterThan(2);
    expect(inBaseline.every((s) => s.serverErrorsPerSecond === 0 && s.errorLogLines === 0)).toBe(true);
    expect(samples.some((s) => s.t > tFault && s.serverErrorsPerSecond > 0)).toBe(true);
    expect(samples.filter((s) => s.t > tFault).reduce((n, s) => n + s.errorLogLines, 0)).toBeGreaterThan(0);
    expect(samples.some((s) => s.p99Ms !== undefined && s.requestsPerSecond > 0)).toBe(true);

    const report = readFileSync(path.join(runDir, 'incident-report.md'), 'utf8');
    expect(report).toContain('### Recovery validation');
    expect(report).toMatch(/\| verify \| `journey` \| PASS \|/);
    expect(report).toMatch(/\| baseline \| autocannon \| `\/health` \| \d+ of 300 \|/);
    expect(report).toContain('### Monitoring during recovery (service)');

    // The service's logs are kept with the run (and sealed in the evidence); the token is nowhere.
    expect(existsSync(path.join(runDir, 'service-logs', 'launch-1', 'truststream-api-1.log'))).toBe(true);
    expect(existsSync(path.join(runDir, 'service-logs', 'launch-2', 'truststream-api-1.log'))).toBe(true);
    for (const file of filesUnder(runDir)) expect(readFileSync(file, 'utf8'), file).not.toMatch(/tst_[A-Za-z0-9_-]{20,}/);
    expect(leftovers(runDir)).toEqual([]);
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });
  });

  it('Ctrl-C while the service is restarted against the recovered primary: exit 130, every process of every launch gone', async () => {
    let sent = false;
    const result = await runCli(['run', catalogueScenario('db-corruption-pitr-service.yaml'), '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (!sent && /Update application connection to the restored instance …/.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    const runDir = runDirFrom(result.stdout, reportsDir);
    expect(readJournal(runDir).status).toBe('interrupted');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control pg-recovered-but-slow: every probe, RTO, RPO and smoke pass; performance fails on the slow release (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('pg-recovered-but-slow.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['performance']);
    expect(verdictOf(journal, 'performance')!.message).toMatch(/^performance failed: .*p99 \d+(\.\d+)? ms after recovery is not below 500ms/);
    expect(journal.load!.at(-1)!.latencyMs.p50).toBeGreaterThanOrEqual(700);
    expect(journal.steps.find((s) => s.name === 'service-restart')?.output).toMatchObject({ version: { from: '4.4.0', to: '4.4.4' } });
    expect(stdout).toMatch(/FAIL performance: /);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control pg-recovered-writes-broken: healthy and readable after recovery, the smoke journey fails (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('pg-recovered-writes-broken.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['smoke']);
    expect(verdictOf(journal, 'smoke')!.message).toBe(
      'smoke tests failed: journey (verify): POST /api/transfers on truststream-api-1: HTTP 500 internal, expected 201; integration (verify): not run: the journey created no transfer',
    );
    const checks = journal.smoke![0]!.checks;
    expect(checks.map((c) => `${c.name} ${c.status}`)).toEqual(['health passed', 'read passed', 'journey failed', 'integration failed']);
    const report = readFileSync(path.join(runDir, 'incident-report.md'), 'utf8');
    expect(report).toMatch(/\| verify \| `journey` \| \*\*FAIL\*\* \|/);
    expect(leftovers(runDir)).toEqual([]);
  });
});
