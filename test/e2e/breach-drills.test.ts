import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assessForensics } from '../../src/assertions/index.js';
import { rehashForensics } from '../../src/recovery/forensics/hash-files.js';
import { verifyEvidence } from '../../src/report/evidence.js';
import { catalogueScenario, failedChecks, filesUnder, leftovers, readJournal, runCli, runDirFrom, runScenario, verdictOf } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-breach-'));
// The full runbook seals its memory dumps and base backup with a run key kept here (outside the run directory).
const keysDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-breach-keys-'));
process.env.DRILL_FORENSIC_SEAL_DIR = keysDir;
afterAll(() => {
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(keysDir, { recursive: true, force: true });
});

/** Runs a scenario into this file's reports dir. */
const run = (file: string) => runScenario(file, reportsDir);

/** Every API token the service issues starts with tst_ (a prefix secret scanners match): none may be in a file of the run. */
function expectNoTokenInAnyFile(runDir: string): void {
  for (const file of filesUnder(runDir)) expect(readFileSync(file, 'utf8'), file).not.toMatch(/tst_[A-Za-z0-9_-]{20,}/);
}

describe('leaked API tokens (plain-process service, real PostgreSQL, real HTTP, real CLI)', () => {
  it('breach-leaked-api-token passes: the abuse proven, every token revoked, time-to-revoke within the limit, legitimate users reissued', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('breach-leaked-api-token.yaml'));
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
    expect(verdictOf(journal, 'blast-radius')!.message).toMatch(/^legitimate traffic kept working after the runbook's last step: 'account-readable' (\d+)\/\1, \d+ canary writes acknowledged$/);
    expect(journal.events.some((e) => e.kind === 'detection-not-applicable')).toBe(true);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });
  });

  it('negative control breach-restart-without-revoke: the service restarted, no token revoked: fails on revocation alone (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('breach-restart-without-revoke.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['revocation']);
    expect(verdictOf(journal, 'revocation')!.message).toMatch(/^api-token leaked-\S+ \(sha256:[0-9a-f]{16}\) was never revoked: .* [1-9]\d* attempts? allowed after the runbook's last step$/);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control breach-revocation-breaks-service: every token revoked, none reissued: revocation passes, blast-radius (and RTO) fail (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('breach-revocation-breaks-service.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['rto', 'blast-radius']);
    expect(verdictOf(journal, 'revocation')!.status).toBe('passed');
    expect(verdictOf(journal, 'blast-radius')!.message).toMatch(/^legitimate users were locked out: probe 'account-readable' failed (\d+) of \1 samples after the runbook's last step .*HTTP 401 unauthorized/);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('breach-leaked-db-password passes: the attacker\'s session terminated, then its logins refused', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('breach-leaked-db-password.yaml'));
    expect(code, stdout).toBe(0);
    const attacker = journal.attacker!;
    expect(attacker.credentials[0]).toMatchObject({ kind: 'postgres-password', name: expect.stringMatching(/^drill_leaked_[0-9a-f]{8}$/) });
    const step = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(step.output!.roles).toEqual([{ role: attacker.credentials[0]!.name, sessionsEnded: 1 }]);
    // Answered after the runbook: all refused (one in flight when teardown stopped the attacker has no answer).
    const after = attacker.attempts.filter((a) => a.t > journal.marks.tRecoveryEnd!.t && a.outcome !== 'error');
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((a) => a.outcome === 'rejected' && /^(session: terminating connection|login: password authentication failed)/.test(a.error ?? ''))).toBe(true);
    expect(verdictOf(journal, 'revocation')!.status).toBe('passed');
    // The password's own absence from every file is checked where its value is known (test/injectors/credential-leak.test.ts).
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control breach-password-rotated-sessions-kept: a new password, the attacker\'s session left open: fails on revocation alone (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('breach-password-rotated-sessions-kept.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['revocation']);
    expect(verdictOf(journal, 'revocation')!.message).toMatch(/^postgres-password drill_leaked_[0-9a-f]{8} \(sha256:[0-9a-f]{16}\) was never revoked: .* [1-9]\d* attempts? allowed after the runbook's last step$/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('security-breach-full-runbook passes: incident declared, evidence preserved and hashed before the revocation, both credentials revoked, the API rolled', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('security-breach-full-runbook.yaml'));
    expect(code, stdout).toBe(0);
    expect(journal.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'activate-incident-response:passed',
      'preserve-forensics:passed',
      'revoke-all-tokens:passed',
      'service-restart:passed',
    ]);
    expect(failedChecks(journal)).toEqual([]);
    expect(journal.verdicts.map((v) => v.check)).toEqual(['steady-state', 'rto', 'rpo', 'integrity', 'recovery-steps', 'smoke', 'revocation', 'blast-radius', 'forensics']);
    const credentials = journal.attacker!.credentials;
    expect(credentials.map((c) => c.kind).sort()).toEqual(['api-token', 'postgres-password']);
    expect(journal.incident).toMatchObject({ breachType: 'credential-leak', severity: 'P0', credentials: expect.arrayContaining(credentials.map((c) => c.fingerprint)) });
    const forensics = journal.forensics!;
    expect(forensics.gaps).toEqual([]);
    expect([...new Set(forensics.artifacts.map((a) => a.kind))]).toEqual(['attacker-activity', 'service-logs', 'postgres-logs', 'database-sessions', 'database-snapshot', 'database-basebackup', 'memory-dump']);
    const revoke = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(forensics.end.t).toBeLessThanOrEqual(revoke.start.t);
    // Each file is on disk with the hash the journal recorded, and holds what an investigator needs.
    const text = (kind: string) => forensics.artifacts.filter((a) => a.kind === kind).map((a) => readFileSync(path.join(runDir, a.path), 'utf8')).join('\n');
    for (const a of forensics.artifacts) expect(createHash('sha256').update(readFileSync(path.join(runDir, a.path))).digest('hex'), a.path).toBe(a.sha256);
    const role = credentials.find((c) => c.kind === 'postgres-password')!.name;
    expect(text('postgres-logs')).toContain(`connection authorized: user=${role} database=drill`);
    expect(JSON.parse(text('database-sessions'))).toEqual(expect.arrayContaining([expect.objectContaining({ usename: role })]));
    // The token table as it was before the revocation: the leaked token's row, not yet revoked (its hash, never the token).
    const tokenRows = /^COPY public\.api_tokens [^\n]*\n([\s\S]*?)^\\\.$/m.exec(text('database-snapshot'))?.[1] ?? '';
    expect(tokenRows.split('\n').some((row) => /^\d+\tleaked-\S+\t[0-9a-f]{64}\t[^\t]+\t\\N$/.test(row)), tokenRows.slice(0, 2000)).toBe(true);
    const activity = JSON.parse(text('attacker-activity')) as { attempts: Array<{ outcome: string }>; credentials: Array<{ fingerprint: string }> };
    expect(activity.credentials.map((c) => c.fingerprint).sort()).toEqual(credentials.map((c) => c.fingerprint).sort());
    expect(activity.attempts.some((a) => a.outcome === 'allowed')).toBe(true);
    expect(activity.attempts.some((a) => a.outcome === 'rejected')).toBe(false);
    expect(readFileSync(path.join(runDir, 'incident-report.md'), 'utf8')).toMatch(/### Security incident[\s\S]*### Forensic evidence[\s\S]*every file unchanged/);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });
    expect(JSON.parse(readFileSync(path.join(runDir, 'evidence', 'manifest.json'), 'utf8')).entries.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(forensics.artifacts.map((a) => a.path)));

    // Negative control on the real files: one preserved file edited afterwards fails the check and the evidence.
    const edited = forensics.artifacts.find((a) => a.kind === 'database-snapshot')!;
    appendFileSync(path.join(runDir, edited.path), '-- edited after preservation\n');
    const recheck = { at: forensics.recheck!.at, files: await rehashForensics(runDir, forensics) };
    const tampered = assessForensics({ ...journal, forensics: { ...forensics, recheck } }).verdict;
    expect(tampered.status).toBe('failed');
    expect(tampered.message).toContain(`${edited.path} changed after it was preserved`);
    expect((await verifyEvidence(runDir)).ok).toBe(false);
  });

  it('negative control breach-forensics-after-revoke: the evidence preserved after the revocation: fails on forensics alone (exit 1)', async () => {
    const { code, stdout, journal, runDir } = await run(catalogueScenario('breach-forensics-after-revoke.yaml'));
    expect(code, stdout).toBe(1);
    expect(failedChecks(journal)).toEqual(['forensics']);
    expect(verdictOf(journal, 'forensics')!.message).toMatch(/^forensic evidence not preserved as required: revoke-all-tokens \(which destroys evidence\) started at T_fault\+\S+, before the evidence was preserved at T_fault\+\S+$/);
    expectNoTokenInAnyFile(runDir);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('Ctrl-C while the attacker is at work: exit 130, interrupted, no token in any file, every process gone', async () => {
    let sent = false;
    const result = await runCli(['run', catalogueScenario('breach-restart-without-revoke.yaml'), '--reports-dir', reportsDir], {
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
