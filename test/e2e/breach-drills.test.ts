import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { verifyEvidence } from '../../src/report/evidence.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-breach-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const failedChecks = (journal: Journal) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
const verdict = (journal: Journal, check: string) => journal.verdicts.find((v) => v.check === check);

async function run(file: string): Promise<{ code: number | null; stdout: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir]);
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, stdout: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** Every API token the service issues starts with tst_ (a prefix secret scanners match): none may be in a file of the run. */
function expectNoTokenInAnyFile(runDir: string): void {
  for (const file of filesUnder(runDir)) expect(readFileSync(file, 'utf8'), file).not.toMatch(/tst_[A-Za-z0-9_-]{20,}/);
}

describe('leaked API tokens (plain-process service, real PostgreSQL, real HTTP, real CLI)', () => {
  it('breach-leaked-api-token passes: the abuse proven, every token revoked, time-to-revoke within the limit, legitimate users reissued', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('breach-leaked-api-token.yaml'));
    expect(code, stdout).toBe(0);
    expect(journal.verdicts.map((v) => v.check)).toEqual(['steady-state', 'rto', 'rpo', 'integrity', 'recovery-steps', 'revocation', 'blast-radius']);
    const attacker = journal.attacker!;
    expect(attacker.credentials).toHaveLength(1);
    expect(attacker.credentials[0]!.fingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
    // T_fault is the instant the first allowed attacker request was sent.
    const firstAllowed = attacker.attempts.find((a) => a.outcome === 'allowed')!;
    expect(journal.marks.tFault!.t).toBe(firstAllowed.t);
    const step = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(step.output).toMatchObject({ emergency: true, reissued: expect.stringMatching(/^drill-/) });
    expect((step.output!.revoked as string[]).some((n) => n.startsWith('leaked-'))).toBe(true);
    // Never better than observed: the upper bound is the answer of the first refused request.
    const refused = attacker.attempts.find((a) => a.outcome === 'rejected')!;
    expect(journal.measurements.timeToRevokeMs).toBe(refused.tEnd - step.start.t);
    expect(journal.measurements.credentialExposureMs).toBe(refused.tEnd - journal.marks.tFault!.t);
    expect(refused.t).toBeGreaterThanOrEqual(step.start.t);
    // Answered after the runbook: all refused (one in flight when teardown stopped the attacker has no answer).
    const answeredAfter = attacker.attempts.filter((a) => a.t > journal.marks.tRecoveryEnd!.t && a.outcome !== 'error');
    expect(answeredAfter.length).toBeGreaterThan(0);
    expect(answeredAfter.every((a) => a.outcome === 'rejected' && a.status === 401)).toBe(true);
    expect(verdict(journal, 'blast-radius')!.message).toMatch(/^legitimate traffic kept working after the runbook's last step: 'account-readable' (\d+)\/\1, \d+ canary writes acknowledged$/);
    expect(journal.events.some((e) => e.kind === 'detection-not-applicable')).toBe(true);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });
  });

  it('negative control breach-restart-without-revoke: the service restarted, no token revoked: fails on revocation alone (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('breach-restart-without-revoke.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['revocation']);
    expect(verdict(journal, 'revocation')!.message).toMatch(/^api-token leaked-\S+ \(sha256:[0-9a-f]{16}\) was never revoked: .* [1-9]\d* attempts? allowed after the runbook's last step$/);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control breach-revocation-breaks-service: every token revoked, none reissued: revocation passes, blast-radius (and RTO) fail (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('breach-revocation-breaks-service.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['rto', 'blast-radius']);
    expect(verdict(journal, 'revocation')!.status).toBe('passed');
    expect(verdict(journal, 'blast-radius')!.message).toMatch(/^legitimate users were locked out: probe 'account-readable' failed (\d+) of \1 samples after the runbook's last step .*HTTP 401 unauthorized/);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('breach-leaked-db-password passes: the attacker\'s session terminated, then its logins refused', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('breach-leaked-db-password.yaml'));
    expect(code, stdout).toBe(0);
    const attacker = journal.attacker!;
    expect(attacker.credentials[0]).toMatchObject({ kind: 'postgres-password', name: expect.stringMatching(/^drill_leaked_[0-9a-f]{8}$/) });
    const step = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(step.output!.roles).toEqual([{ role: attacker.credentials[0]!.name, sessionsEnded: 1 }]);
    // Answered after the runbook: all refused (one in flight when teardown stopped the attacker has no answer).
    const after = attacker.attempts.filter((a) => a.t > journal.marks.tRecoveryEnd!.t && a.outcome !== 'error');
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((a) => a.outcome === 'rejected' && /^(session: terminating connection|login: password authentication failed)/.test(a.error ?? ''))).toBe(true);
    expect(verdict(journal, 'revocation')!.status).toBe('passed');
    // The password's own absence from every file is checked where its value is known (test/injectors/credential-leak.test.ts).
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control breach-password-rotated-sessions-kept: a new password, the attacker\'s session left open: fails on revocation alone (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(scenario('breach-password-rotated-sessions-kept.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['revocation']);
    expect(verdict(journal, 'revocation')!.message).toMatch(/^postgres-password drill_leaked_[0-9a-f]{8} \(sha256:[0-9a-f]{16}\) was never revoked: .* [1-9]\d* attempts? allowed after the runbook's last step$/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('Ctrl-C while the attacker is at work: exit 130, interrupted, no token in any file, every process gone', async () => {
    let sent = false;
    const result = await runCli(['run', scenario('breach-restart-without-revoke.yaml'), '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (!sent && /Restart the API \(believed to rotate credentials\) …/.test(all)) {
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
    expect(journal.attacker!.attempts.length).toBeGreaterThan(0);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });
});
