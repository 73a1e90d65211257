import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { catalogueScenario, failedChecks, filesUnder, leftovers, readJournal, runCli, runDirFrom, verdictOf } from '../e2e/helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The leaked service-account token scenarios through the real CLI on the shared control plane
// (DRILL_KUBECONFIG: `provider: auto` uses it, with a fresh labelled drill-<run> namespace per
// drill): the built-in service on real nodes, its database, the attackers against the real
// kube-apiserver, the revocation, the judge.
const shared = inject('k8s');
const reportsDir = recordedTestDir('drill-k8s-breach-');
// The base backup preserve-forensics takes is sealed with a run key kept outside the run dir: here,
// not in the user's ~/.cache/drill/forensic-keys (where each suite run left two keys).
const keysDir = recordedTestDir('drill-k8s-breach-keys-');
afterAll(() => {
  removeRecordedTestDir(reportsDir);
  removeRecordedTestDir(keysDir);
});

async function run(name: string): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', catalogueScenario(name), '--reports-dir', reportsDir], { env: { DRILL_KUBECONFIG: shared.kubeconfigPath, DEBUG: 'drill:*', DRILL_FORENSIC_SEAL_DIR: keysDir } });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

/**
 * Service-account tokens are JWTs (`eyJ….eyJ….sig`); the legacy one is also stored base64 in its
 * Secret (`ZXlK…`). The drill never sees the values outside its memory, so the test cannot name
 * them: it looks for the shapes. None may be in a file of the run, or in what the CLI printed.
 */
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|ZXlK[A-Za-z0-9+/]{40,}/;
function expectNoTokenAnywhere(runDir: string, output: string): void {
  for (const file of filesUnder(runDir)) expect(readFileSync(file, 'latin1'), file).not.toMatch(JWT);
  expect(output).not.toMatch(JWT);
}

describe('leaked service-account tokens (shared control plane, real nodes, real CLI)', () => {
  it('breach-leaked-service-account-token passes: both tokens abused, revoked, the apiserver token cache measured in time-to-revoke', async ({ annotate }) => {
    const { code, output, journal, runDir } = await run('breach-leaked-service-account-token.yaml');
    expect(code, output).toBe(0);
    const { credentials, attempts } = journal.attacker!;
    expect(credentials.map((c) => c.name)).toEqual([expect.stringMatching(/^drill-token-binding-/), expect.stringMatching(/^drill-legacy-token-/)]);
    const step = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(step.output).toMatchObject({ revoked: [], kubernetes: { recreated: [{ serviceAccount: 'default' }] } });
    // Never better than observed: time-to-revoke is the answer of the slowest first refusal, from the step's start.
    const refusals = credentials.map((c) => attempts.find((a) => a.credential === c.fingerprint && a.outcome === 'rejected')!);
    expect(refusals.every((r) => r.status === 401)).toBe(true);
    expect(journal.measurements.timeToRevokeMs).toBe(Math.max(...refusals.map((r) => r.tEnd)) - step.start.t);
    const allowedAfterStart = attempts.filter((a) => a.outcome === 'allowed' && a.t > step.start.t);
    await annotate(`${verdictOf(journal, 'revocation')!.message}; ${allowedAfterStart.length} use(s) allowed after the revoke step started`);
    expect(verdictOf(journal, 'blast-radius')!.status).toBe('passed');
    // The evidence was preserved before the revocation: the pods as they ran (as the leaked account), their logs.
    expect(journal.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['preserve-forensics:passed', 'revoke-all-tokens:passed', 'enable-emergency-access:passed']);
    expect(verdictOf(journal, 'forensics')!.status).toBe('passed');
    const forensics = journal.forensics!;
    // A cluster the drill does not run (DRILL_KUBECONFIG): its audit log is not this drill's to read.
    expect(forensics.gaps).toEqual([]);
    expect([...new Set(forensics.artifacts.map((a) => a.kind))]).toEqual(['attacker-activity', 'postgres-logs', 'database-sessions', 'database-snapshot', 'database-basebackup', 'kubernetes-objects', 'pod-logs']);
    const pods = JSON.parse(readFileSync(path.join(runDir, 'forensics', 'kubernetes-pods.json'), 'utf8')) as Array<{ spec: { serviceAccountName?: string; nodeName?: string } }>;
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((p) => (p.spec.serviceAccountName ?? 'default') === 'default' && p.spec.nodeName)).toBe(true);
    expect(forensics.artifacts.filter((a) => a.kind === 'pod-logs').length).toBeGreaterThanOrEqual(pods.length);
    // Break-glass access for the responder, after the revocation (the account it adds is not a leaked one).
    const emergency = journal.steps.find((s) => s.name === 'enable-emergency-access')!;
    expect(emergency.output).toMatchObject({ clusterRole: 'admin', verified: expect.stringMatching(/^the responder's token listed \d+ secret\(s\)/) });
    expectNoTokenAnywhere(runDir, output);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('breach-revoke-misses-legacy-token fails on revocation only, naming the legacy token (exit 1)', async () => {
    const { code, output, journal, runDir } = await run('breach-revoke-misses-legacy-token.yaml');
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['revocation']);
    const legacy = journal.attacker!.credentials.find((c) => c.name.startsWith('drill-legacy-token-'))!;
    expect(verdictOf(journal, 'revocation')!.message).toMatch(new RegExp(`^k8s-service-account-token ${legacy.name} \\(${legacy.fingerprint}\\) was never revoked`));
    expectNoTokenAnywhere(runDir, output);
    expect(leftovers(runDir)).toEqual([]);
  });
});
