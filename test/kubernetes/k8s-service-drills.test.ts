import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readJournal, ROOT, runCli, runDirFrom } from '../e2e/helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The drills that judge the real service on real nodes by what its clients see (issue 8): the
// health check and the API through the Service's endpoints, the error rate from the service's own
// metrics, a load test. On the shared cluster (DRILL_KUBECONFIG), each with its own PostgreSQL.
const shared = inject('k8s');
const env = { DRILL_KUBECONFIG: shared.kubeconfigPath };
const reportsDir = recordedTestDir('drill-e2e-k8s-service-');
afterAll(() => removeRecordedTestDir(reportsDir));

async function run(name: string) {
  const result = await runCli(['run', path.join(ROOT, 'drills/scenarios', name), '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { result, journal: readJournal(runDir) };
}
const failed = (journal: ReturnType<typeof readJournal>) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);

describe('the service under drill on real nodes, judged as its clients see it', () => {
  it('k8s-error-rate-rollback passes: 4.4.3 answers 500 on writes while every pod is Ready; the breaker trips on the error rate and rolls back', async () => {
    const { result, journal } = await run('k8s-error-rate-rollback.yaml');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // Detected by the error rate, not by readiness or /health (which stay green for this release).
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/api-error-rate.*5xx rate/);
    const health = journal.probes.filter((p) => p.probe === 'api-health' && p.t >= journal.marks.tFault!.t);
    expect(health.length).toBeGreaterThan(0);
    // The failed samples themselves, not a bare false: what failed (status, timeout, refused) is the diagnosis.
    expect(health.filter((p) => !p.ok)).toEqual([]);
    const breaker = journal.steps.find((s) => s.name === 'k8s-circuit-breaker')?.output as { tripped?: boolean; rollbackNeeded?: boolean } | undefined;
    expect(breaker).toMatchObject({ tripped: true, rollbackNeeded: true });
    // The canary wrote through the API and lost nothing it was told was committed.
    expect(journal.canary.acks.length).toBeGreaterThan(10);
    expect(journal.measurements.lostWrites).toBe(0);
  });

  it('negative control k8s-readiness-lies: every pod Ready and the rollout complete, /health fails: the drill FAILS on RTO only (exit 1)', async () => {
    const { result, journal } = await run('k8s-readiness-lies.yaml');
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(failed(journal)).toEqual(['rto']);
    expect(journal.verdicts.find((v) => v.check === 'rto')?.message).toMatch(/api-health.*503 schema_mismatch/);
    // Kubernetes' own view recovered: the endpoints probe passed again and the rollout step passed.
    const tFault = journal.marks.tFault!.t;
    const endpoints = journal.probes.filter((p) => p.probe === 'api-ready-endpoints' && p.t > tFault);
    expect(endpoints.at(-1)?.ok).toBe(true);
    expect(journal.steps.find((s) => s.name === 'k8s-rollout-status')?.status).toBe('passed');
  });

  it('negative control k8s-recovered-but-slow: rolled back within the RTO to a slow release: the drill FAILS on performance only (exit 1)', async () => {
    const { result, journal } = await run('k8s-recovered-but-slow.yaml');
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(failed(journal)).toEqual(['performance']);
    expect(journal.verdicts.find((v) => v.check === 'performance')?.message).toMatch(/p99 \d+ ms after recovery is not below 500ms/);
  });
});
