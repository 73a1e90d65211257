import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { KilledRunRecord } from '../../src/cli/finish-run.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { leftovers as serversLeft, readJournal, ROOT, runCli } from '../e2e/helpers.js';
import { ownersGone, runAndKill } from '../e2e/kill-helpers.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// kill -9 of Kubernetes drills (real control planes, real CLI): the drill's own control plane
// (etcd, kube-apiserver, controllers, kwok) and a namespace in a cluster that outlives the drill.
// The drill has its own PostgreSQL (the system under drill needs it on real nodes): provisioning
// both takes minutes on a loaded machine before the baseline the tests kill at.
const REACH_BASELINE_MS = 360_000;
const shared = inject('k8s');
const core = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(CoreV1Api);
const reportsDir = recordedTestDir('drill-e2e-k8s-killed-');
const runs = recordedTestDir('drill-e2e-k8s-runs-');
const scenario = path.join(ROOT, 'test/fixtures/scenarios/k8s-killed-drill.yaml');
const baseline = (s: { started: string[] }) => s.started.includes('Baseline (steady state)');

afterAll(async () => {
  await runCli(['cleanup'], { env: { DRILL_RUNS_DIR: runs } });
  removeRecordedTestDir(reportsDir);
  removeRecordedTestDir(runs);
});
afterEach(() => expect(listRunLedgers(runs), 'a run ledger was left in the runs directory').toEqual([]));

const namespaceExists = (name: string) =>
  core.readNamespace({ name }).then(
    () => true,
    (e: { code?: number }) => e.code !== 404,
  );

/** Recorded control-plane processes still running and temp dirs still there. */
function leftovers(runDir: string): string[] {
  return readResources(path.join(runDir, 'resources.jsonl')).flatMap((r) => {
    if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match, r.startTime)) return [`process ${r.name} ${r.pid}`];
    if (r.kind === 'temp-dir' && existsSync(r.path)) return [`dir ${r.path}`];
    return [];
  });
}

describe('kill -9 of Kubernetes drills', () => {
  it('`drill run` killed: the drill stops its own control plane (etcd, apiserver, controllers, kwok); cleanup writes the evidence', { timeout: 600_000 }, async () => {
    // DRILL_KUBECONFIG empty: a control plane of the drill's own, not the shared one.
    const env = { DRILL_RUNS_DIR: runs, DRILL_KUBECONFIG: '' };
    const killed = await runAndKill({ scenario, reportsDir, env, groups: 'cli', when: baseline, what: 'the baseline', reachTimeoutMs: REACH_BASELINE_MS });
    await ownersGone(killed.ledgerFile);
    const recorded = readResources(path.join(killed.runDir, 'resources.jsonl'));
    expect(recorded.filter((r) => r.kind === 'process').map((r) => r.name)).toEqual(
      expect.arrayContaining(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok:kwok-node-1']),
    );
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(serversLeft(killed.runDir)).toEqual([]);
    const journal = readJournal(killed.runDir);
    expect(journal.status).toBe('interrupted');
    expect(journal.error?.code).toBe('RUN_COMMAND_GONE');

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/evidence written/);
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });

  it('`drill run` and the drill killed: `drill cleanup` deletes the namespace it made in a running cluster', { timeout: 600_000 }, async () => {
    const env = { DRILL_RUNS_DIR: runs, DRILL_KUBECONFIG: shared.kubeconfigPath };
    const killed = await runAndKill({ scenario, reportsDir, env, groups: 'cli-and-drill', when: baseline, what: 'the baseline', reachTimeoutMs: REACH_BASELINE_MS });
    await ownersGone(killed.ledgerFile);
    const namespace = readResources(path.join(killed.runDir, 'resources.jsonl')).find((r) => r.kind === 'k8s-namespace')?.name;
    expect(namespace).toBeDefined();
    // Negative control: nobody deleted it yet, nor the drill's PostgreSQL.
    expect(await namespaceExists(namespace!)).toBe(true);
    expect(serversLeft(killed.runDir).length).toBeGreaterThan(0);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`removed namespace ${namespace}`);
    await waitUntil(`namespace ${namespace} to be gone`, async () => ((await namespaceExists(namespace!)) ? undefined : true), 120_000);
    const marker = JSON.parse(readFileSync(path.join(killed.runDir, 'killed.json'), 'utf8')) as KilledRunRecord;
    expect(marker.removed).toContain(`namespace ${namespace}`);
    expect(serversLeft(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });
});
