import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { openSealed } from '../../src/recovery/forensics/sealed-file.js';
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

/** A catalogue drill through the CLI; on the shared control plane unless `ownCluster` (then it starts one of its own). */
async function run(name: string, options: { ownCluster?: boolean } = {}): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const cluster = options.ownCluster ? '' : shared.kubeconfigPath;
  const result = await runCli(['run', catalogueScenario(name), '--reports-dir', reportsDir], { env: { DRILL_KUBECONFIG: cluster, DEBUG: 'drill:*', DRILL_FORENSIC_SEAL_DIR: keysDir } });
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
    expect([...new Set(forensics.artifacts.map((a) => a.kind))]).toEqual(['attacker-activity', 'postgres-logs', 'database-sessions', 'database-snapshot', 'database-basebackup', 'memory-dump', 'kubernetes-objects', 'pod-logs']);
    const pods = JSON.parse(readFileSync(path.join(runDir, 'forensics', 'kubernetes-pods.json'), 'utf8')) as Array<{
      metadata: { name: string; labels?: Record<string, string> };
      spec: { serviceAccountName?: string; nodeName?: string };
    }>;
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((p) => (p.spec.serviceAccountName ?? 'default') === 'default' && p.spec.nodeName)).toBe(true);
    // The API pods' memory, read from their containers' processes on the real nodes (found by
    // container ID), sealed. Each holds its own pod's environment (HOSTNAME is the pod's name) and
    // not the other pod's: the dump is of the right container.
    const apiPods = pods.filter((p) => p.metadata.labels?.app === 'truststream-api').map((p) => p.metadata.name);
    const dumps = forensics.artifacts.filter((a) => a.kind === 'memory-dump');
    expect(apiPods.length).toBeGreaterThan(1);
    expect(dumps.map((d) => (d.details as { process: string }).process).sort()).toEqual(apiPods.map((name) => `${name}.api`).sort());
    for (const dump of dumps) {
      const details = dump.details as { process: string; pid: number; regions: number; dumpedBytes: number };
      expect(details.regions).toBeGreaterThan(0);
      const plain = openSealed(path.join(runDir, dump.path), dump.sealed!.keyFile);
      expect(plain.subarray(0, 40).toString('latin1')).toMatch(new RegExp(`^drill-memory-dump v1 pid=${details.pid} `));
      const own = details.process.replace(/\.api$/, '');
      expect(plain.includes(`HOSTNAME=${own}`), own).toBe(true);
      for (const other of apiPods.filter((name) => name !== own)) expect(plain.includes(`HOSTNAME=${other}`), other).toBe(false);
    }
    expect(forensics.artifacts.filter((a) => a.kind === 'pod-logs').length).toBeGreaterThanOrEqual(pods.length);
    // Break-glass access for the responder, after the revocation (the account it adds is not a leaked one).
    const emergency = journal.steps.find((s) => s.name === 'enable-emergency-access')!;
    expect(emergency.output).toMatchObject({ clusterRole: 'admin', verified: expect.stringMatching(/^the responder's token listed \d+ secret\(s\)/) });
    expectNoTokenAnywhere(runDir, output);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('breach-isolate-compromised-pod passes on a cluster of its own: only the node of the pod the leaked token is bound to is isolated, the token dies, the service keeps serving', async () => {
    const { code, output, journal, runDir } = await run('breach-isolate-compromised-pod.yaml', { ownCluster: true });
    expect(code, output).toBe(0);
    // Scenario 3 on Kubernetes, in the catalogue's order (evidence before containment).
    expect(journal.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'activate-incident-response:passed',
      'preserve-forensics:passed',
      'isolate-compromised-nodes:passed',
      'revoke-all-tokens:passed',
      'enable-emergency-access:passed',
    ]);
    const [credential] = journal.attacker!.credentials;
    expect(credential!.boundPod).toMatch(/^truststream-api-/);
    const isolation = journal.steps.find((s) => s.name === 'isolate-compromised-nodes')!.output as { nodes: string[]; evicted: Array<{ pod: string; outcome: string }>; leakedPods: string[] };
    expect(isolation.leakedPods).toEqual([credential!.boundPod]);
    // One node of the two: the one that ran the compromised pod, and only that pod evicted by the step.
    expect(isolation.nodes).toHaveLength(1);
    // Evicted by the step, or already deleted by the taint manager (NoExecute) before its call.
    expect(isolation.evicted.map((e) => e.pod.split('/')[1])).toEqual([credential!.boundPod]);
    expect(['evicted', 'already-gone']).toContain(isolation.evicted[0]!.outcome);
    const pods = JSON.parse(readFileSync(path.join(runDir, 'forensics', 'kubernetes-pods.json'), 'utf8')) as Array<{ metadata: { name: string; labels?: Record<string, string> }; spec: { nodeName?: string } }>;
    expect(pods.find((p) => p.metadata.name === credential!.boundPod)?.spec.nodeName).toBe(isolation.nodes[0]);
    // The serving (blue) API pods ran on both nodes before the isolation (a soft spread): were they
    // all on the isolated node, the service would have gone down with it, and this drill with it.
    const blueNodes = new Set(pods.filter((p) => p.metadata.labels?.app === 'truststream-api' && p.metadata.labels.version === 'blue').map((p) => p.spec.nodeName));
    expect(blueNodes.size, `blue API pods ran on ${[...blueNodes].join(', ')} only: the scheduler did not spread them`).toBe(2);
    expect(pods.find((p) => p.metadata.name === credential!.boundPod)?.metadata.labels?.version, 'the leaked token is bound to a serving pod').toBe('blue');
    // Preserved before the isolation ended the compromised pod: its memory among the dumps.
    expect(journal.forensics!.artifacts.filter((a) => a.kind === 'memory-dump').map((a) => (a.details as { process: string }).process)).toContain(`${credential!.boundPod}.api`);
    // The eviction ended the token: the revoke step found no token Secret to delete or account to
    // recreate, and time-to-revoke runs from the isolation's start.
    expect(journal.steps.find((s) => s.name === 'revoke-all-tokens')!.output).toMatchObject({ kubernetes: { deletedSecrets: [], recreated: [] } });
    const revocation = verdictOf(journal, 'revocation')!;
    expect(revocation.message).toMatch(/^time-to-revoke ≤ \S+ from the start of isolate-compromised-nodes /);
    expect(journal.measurements.timeToRevokeMs).toBe(
      journal.attacker!.attempts.find((a) => a.outcome === 'rejected')!.tEnd - journal.steps.find((s) => s.name === 'isolate-compromised-nodes')!.start.t,
    );
    expect(failedChecks(journal)).toEqual([]);
    expect(verdictOf(journal, 'blast-radius')!.status).toBe('passed');
    expectNoTokenAnywhere(runDir, output);
    expect(leftovers(runDir)).toEqual([]);
    // Above the scenario's own timeout (8m) plus a control plane's start: a vitest timeout would leave the drill running.
  }, 720_000);

  it('breach-isolate-whole-account (negative control) fails on blast-radius: isolating by service account takes every node of the service (exit 1)', async () => {
    const { code, output, journal, runDir } = await run('breach-isolate-whole-account.yaml', { ownCluster: true });
    expect(code, output).toBe(1);
    // RTO fails too when the service went down before it had passed its stability window after
    // T_fault (the leak itself harms no probe): how long the steps before the isolation took decides.
    const failed = failedChecks(journal);
    expect(failed).toContain('blast-radius');
    expect(failed.filter((c) => c !== 'blast-radius' && c !== 'rto')).toEqual([]);
    const isolation = journal.steps.find((s) => s.name === 'isolate-compromised-nodes')!.output as { nodes: string[]; serviceAccount: string };
    expect(isolation).toMatchObject({ serviceAccount: 'default' });
    expect(isolation.nodes).toHaveLength(2);
    expect(verdictOf(journal, 'blast-radius')!.message).toMatch(/^legitimate users were locked out: probe 'account-readable' failed/);
    expect(verdictOf(journal, 'revocation')!.status).toBe('passed');
    expectNoTokenAnywhere(runDir, output);
    expect(leftovers(runDir)).toEqual([]);
  }, 720_000);

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
