import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readResources } from '../../src/engine/resource-ledger.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { HOST_IP } from '../../src/targets/network/layout.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from '../e2e/helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The runbook's automation scripts and the whole of Scenario 2, as users run them (bin/drill.mjs),
// on the shared control plane: DRILL_KUBECONFIG makes `provider: auto` use that running cluster,
// with a fresh drill-<run> namespace per drill (as test/kubernetes/k8s-drills.test.ts does).
const shared = inject('k8s');
const core = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(CoreV1Api);
const env = { DRILL_KUBECONFIG: shared.kubeconfigPath };
const reportsDir = recordedTestDir('drill-e2e-k8s-auto-');
afterAll(() => removeRecordedTestDir(reportsDir));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);

/** What a drill left: PostgreSQL servers, processes and temp dirs (e2e helper), and namespaces that still exist. */
async function allLeftovers(runDir: string): Promise<string[]> {
  const left = leftovers(runDir);
  for (const r of readResources(path.join(runDir, 'resources.jsonl'))) {
    if (r.kind !== 'k8s-namespace') continue;
    const exists = await core.readNamespace({ name: r.name }).then(
      () => true,
      (e: { code?: number }) => e.code !== 404,
    );
    if (exists) left.push(`namespace ${r.name}`);
  }
  return left;
}

async function run(file: string) {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { result, runDir, journal: readJournal(runDir) };
}

type Journal = ReturnType<typeof readJournal>;
const verdict = (journal: Journal, check: string) => journal.verdicts.find((v) => v.check === check);
const failedChecks = (journal: Journal) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
const stepOf = (journal: Journal, name: string) => journal.steps.find((s) => s.name === name);
const events = (journal: Journal, kind: string) => journal.events.filter((e) => e.kind === kind);

interface BreakerOutput {
  tripped: boolean;
  rollbackNeeded: boolean;
  trippedAfterFaultMs: number;
  checks: Array<{ t: number; healthy: boolean; errorCount: number; failing?: string }>;
  rollback: {
    rollbackNeeded: boolean;
    result: string;
    healthGate: { healthy: boolean; checks: number; waitedMs: number };
    rollback: Array<Record<string, unknown>>;
    verify: { healthy: boolean };
  };
}

describe('runbook automation and Scenario 2 across Kubernetes and PostgreSQL (real control plane, real CLI)', () => {
  it('k8s-auto-rollback-circuit-breaker passes: the breaker trips on its third failure, the auto-rollback restores the service', async () => {
    const { result, runDir, journal } = await run(scenario('k8s-auto-rollback-circuit-breaker.yaml'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const step = stepOf(journal, 'k8s-circuit-breaker')!;
    const out = step.output as unknown as BreakerOutput;
    expect(out).toMatchObject({ tripped: true, rollbackNeeded: true, threshold: 3 });
    // The release never becomes ready by itself: three failed checks in a row, one second apart.
    expect(out.checks.map((c) => [c.healthy, c.errorCount])).toEqual([[false, 1], [false, 2], [false, 3]]);
    expect(out.checks[1]!.t - out.checks[0]!.t).toBeGreaterThanOrEqual(1000);
    expect(out.checks[0]!.failing).toMatch(/api-ready-endpoints: service truststream-api: \d ready endpoints, fewer than 3/);
    // The auto-rollback still gives the service its health timeout (5 s, checks 1 s apart) first.
    expect(out.rollback).toMatchObject({ rollbackNeeded: true, result: 'rollback successful', healthGate: { healthy: false }, verify: { healthy: true } });
    expect(out.rollback.healthGate.waitedMs).toBeGreaterThanOrEqual(4000);
    expect(out.rollback.healthGate.checks).toBeGreaterThanOrEqual(4);
    // kubectl rollout undo of the script's deployments, through k8s-rollout-undo: back to 4.4.0.
    expect(out.rollback.rollback).toEqual(
      ['truststream-api', 'truststream-worker'].map((deployment) => ({ deployment, from: 2, to: 1, changeCause: 'TrustStram 4.4.0', images: ['drill.local/truststream:4.4.0'] })),
    );
    expect(events(journal, 'circuit-breaker').map((e) => e.message)).toEqual([
      'Circuit breaker triggered after 3 failed health checks in a row, initiating emergency procedures (auto-rollback)',
    ]);
    expect(events(journal, 'auto-rollback').map((e) => e.message)).toEqual([
      expect.stringMatching(/^Health check failed for \d.*initiating rollback of truststream-api, truststream-worker$/),
      'Rollback successful',
    ]);

    // Detection is the probes'; the RTO covers the automation's own delays, and ends after the undo.
    const tFault = journal.marks.tFault!.t;
    const m = journal.measurements;
    expect(verdict(journal, 'detection')?.status).toBe('passed');
    expect(m.detectionLatencyMs).toBeLessThan(5000);
    expect(out.trippedAfterFaultMs).toBeGreaterThan(m.detectionLatencyMs! + 2000);
    expect(m.rtoMs).toBeGreaterThan(out.trippedAfterFaultMs + out.rollback.healthGate.waitedMs);
    expect(tFault + m.rtoMs!).toBeGreaterThan(events(journal, 'rollout-undo')[0]!.t);
    expect(failedChecks(journal)).toEqual([]);
    expect(await allLeftovers(runDir)).toEqual([]);
  }, 300_000);

  it('negative control: the revision before the bad one is broken too; the auto-rollback escalates, the drill FAILS on the step and RTO (exit 1)', async () => {
    const { result, runDir, journal } = await run(fixture('k8s-auto-rollback-escalates.yaml'));
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(failedChecks(journal)).toEqual(['rto', 'recovery-steps']);
    const step = stepOf(journal, 'k8s-circuit-breaker')!;
    expect(step.status).toBe('failed');
    expect(step.error).toMatchObject({ code: 'ROLLBACK_FAILED', message: expect.stringMatching(/^Rollback failed, escalating: kubectl rollout status deployment\/truststream-api: /) });
    expect(result.stdout).toMatch(/FAIL recovery-steps: .*ROLLBACK_FAILED: Rollback failed, escalating/);
    expect(result.stdout).toMatch(/FAIL rto: recovery never stabilised/);
    // The breaker did trip and the rollback did run: undo went from 4.4.2 to the broken 4.4.1.
    expect(events(journal, 'circuit-breaker')).toHaveLength(1);
    const escalated = events(journal, 'auto-rollback').at(-1)!;
    expect(escalated.message).toMatch(/^Rollback failed, escalating/);
    expect(escalated.data).toMatchObject({
      rollbackNeeded: true,
      rollback: [{ deployment: 'truststream-api', from: 3, to: 2, changeCause: 'TrustStram 4.4.1', images: ['drill.local/truststream:4.4.1'] }],
    });
    expect(await allLeftovers(runDir)).toEqual([]);
  }, 300_000);

  it('k8s-db-corruption-full-runbook passes: Kubernetes immediate response, PITR, DATABASE_URL to the recovered primary, API back', async () => {
    const { result, runDir, journal } = await run(scenario('k8s-db-corruption-full-runbook.yaml'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(journal.verdicts.map((v) => [v.check, v.status])).toEqual(
      ['steady-state', 'detection', 'rto', 'rpo', 'integrity', 'recovery-steps'].map((check) => [check, 'passed']),
    );
    expect(journal.steps.map((s) => [s.name, s.status])).toEqual(
      [
        'k8s-scale',
        'k8s-configmap-patch',
        'k8s-rollout-restart',
        'assess-corruption',
        'stop-writes',
        'pitr-restore',
        'switch-workload',
        'k8s-secret-patch',
        'k8s-configmap-patch',
        'k8s-rollout-restart',
        'k8s-scale',
      ].map((name) => [name, 'passed']),
    );
    const [scaleDown, , , , , , switched, secret, readWrite, , scaleUp] = journal.steps;
    expect(scaleDown!.output).toMatchObject({ deployment: 'truststream-api', from: 3, to: 0 });
    expect(journal.steps[1]!.output).toMatchObject({ previous: { READ_ONLY_MODE: 'false' }, set: { READ_ONLY_MODE: 'true' } });
    expect(readWrite!.output).toMatchObject({ previous: { READ_ONLY_MODE: 'true' }, set: { READ_ONLY_MODE: 'false' } });
    expect(scaleUp!.output).toMatchObject({ deployment: 'truststream-api', from: 0, to: 3 });

    // The Secret was read back holding the recovered primary's URL (the step's postcondition).
    const to = switched!.output as { to: string; port: number };
    // Shown as the URL the pods got (the drill network's host address, where the recovered
    // primary listens for them), without its password.
    expect(secret!.output).toMatchObject({ key: 'DATABASE_URL', instance: to.to });
    expect(secret!.output!.value).toMatch(new RegExp(`^postgresql://[^@/:]+@${HOST_IP.replaceAll('.', '\\.')}:${to.port}/`));

    // Detected by the SQL probe; the API's probe fails from the scale-down until the scale-up, so
    // the RTO runs to the end of the runbook, not only to the database switch.
    const tFault = journal.marks.tFault!.t;
    expect(verdict(journal, 'detection')?.details?.firstFailure).toMatchObject({ probe: 'transfers-readable' });
    const apiDown = journal.probes.filter((p) => p.probe === 'api-available' && !p.ok && p.t >= tFault);
    expect(apiDown.length).toBeGreaterThan(0);
    expect(journal.measurements.rtoMs).toBeGreaterThan(scaleUp!.start.t - tFault);
    expect(journal.measurements.rtoMs).toBeGreaterThan(switched!.end!.t - tFault);
    expect(journal.measurements.rpoMs).toBeLessThan(2000);
    expect(journal.integrity?.amcheck).toEqual([]);
    expect(await allLeftovers(runDir)).toEqual([]);
  }, 600_000);
});
