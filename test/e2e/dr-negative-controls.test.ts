import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { e2eWorkspace, failedChecks, leftovers, readJournal, ROOT, runCli, runDirFrom, verdictOf } from './helpers.js';

// Negative controls for the DR-site postconditions, through the real CLI: real moto (Route 53 API),
// the drill's real DNS server and health checks, real service processes in two loopback ranges,
// real PostgreSQL.
const { reportsDir, env } = e2eWorkspace('drill-e2e-dr-neg');

const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);

describe('activate-dr-site negative controls', () => {
  it('health checks that can never pass: DNS keeps answering the lost region, activate-dr-site fails on DNS_DID_NOT_FAIL_OVER at its timeout (exit 1, recovery-steps)', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', fixture('region-automatic-failover-dns-never-flips.yaml'), '--reports-dir', reportsDir], { env });
    const output = result.stdout + result.stderr;
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(result.code, output).toBe(1);
    expect(failedChecks(journal)).toContain('recovery-steps');

    // Everything before the DNS wait happened: the step failed on the DNS postcondition only.
    const step = journal.steps.find((s) => s.name === 'activate-dr-site')!;
    expect(step.status).toBe('failed');
    expect(step.error?.code).toBe('DNS_DID_NOT_FAIL_OVER');
    const message = verdictOf(journal, 'recovery-steps')?.message ?? '';
    expect(message).toContain('DNS_DID_NOT_FAIL_OVER');
    expect(message).not.toContain('DR_SITE_NOT_READY');
    // What DNS answered is named: the lost region's addresses, never the DR region's.
    expect(message).toMatch(/the DNS server still answers api\.truststream\.drill\.test\.? with 127\.0\.1\.1, 127\.0\.1\.2, not the DR region's 127\.0\.2\.1,127\.0\.2\.2/);
    // The cause is in the journal: both regions' checks of /nope went unhealthy (404), already
    // before the fault (so the step saw no transition after it), and nothing ever became healthy.
    const checks = journal.events.filter((e) => e.kind === 'health-check');
    const unhealthy = checks.filter((e) => e.data?.healthy === false).map((e) => String(e.data?.endpoint));
    expect(unhealthy.some((e) => /^http:\/\/127\.0\.1\.1:\d+\/nope$/.test(e))).toBe(true);
    expect(unhealthy.some((e) => /^http:\/\/127\.0\.2\.1:\d+\/nope$/.test(e))).toBe(true);
    expect(checks.filter((e) => e.data?.healthy === true)).toEqual([]);
    // It waited until its own deadline (the 20 s timeout less 2 s, so the step's own failure comes before the engine's STEP_TIMEOUT), not less.
    expect(step.end!.t - step.start.t).toBeGreaterThanOrEqual(18_000);
    expect(leftovers(runDir)).toEqual([]);
  });
});
