import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { e2eWorkspace, ROOT, runCli } from './helpers.js';

// `drill run --parallel 2` with two Kubernetes drills that would share a control plane, on a
// machine where it cannot start (control plane not built): each drill reports why (exit 3), and
// nothing of the cluster is left. The run itself (two drills on one) is test/kubernetes/shared-control-plane.test.ts.
const { reportsDir, env } = e2eWorkspace('drill-e2e-shared-unstarted');
const clusters = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-shared-clusters-'));
afterAll(() => rmSync(clusters, { recursive: true, force: true }));
const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);

describe('--parallel: the shared control plane cannot start', () => {
  it('both drills environment-error with the build command (exit 3); no cluster directory, no run ledger left', async () => {
    const result = await runCli(['run', scenario('k8s-pod-kill-self-heal.yaml'), scenario('k8s-blue-green-switch.yaml'), '--parallel', '2', '--reports-dir', reportsDir], {
      env: { ...env, DRILL_KUBECONFIG: '', DRILL_CLUSTERS_DIR: clusters, DRILL_CACHE_DIR: path.join(clusters, 'empty-cache'), DRILL_CONTROL_PLANE_BIN: '' },
    });
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/shared control plane run-[a-z0-9-]+ for 2 drills: starting/);
    const summary = JSON.parse(readFileSync(path.join(reportsDir, 'summary.json'), 'utf8')) as { drills: Array<{ scenario: string; status: string; error?: { code: string } }> };
    expect(summary.drills.map((d) => [d.scenario, d.status, d.error?.code])).toEqual([
      ['k8s-pod-kill-self-heal', 'environment-error', 'CONTROL_PLANE_NOT_BUILT'],
      ['k8s-blue-green-switch', 'environment-error', 'CONTROL_PLANE_NOT_BUILT'],
    ]);
    expect(result.stdout + result.stderr).toContain('tools/build-control-plane.sh');
    // Its run ledger is gone too: e2eWorkspace's afterEach checks the runs directory is empty.
    expect(readdirSync(clusters).filter((d) => d !== 'empty-cache')).toEqual([]);
  });

  it('negative controls: one shareable drill beside one that needs its own cluster, or --parallel 1: no shared control plane', async () => {
    const unbuilt = { ...env, DRILL_KUBECONFIG: '', DRILL_CLUSTERS_DIR: clusters, DRILL_CACHE_DIR: path.join(clusters, 'empty-cache'), DRILL_CONTROL_PLANE_BIN: '' };
    const mixed = await runCli(['run', scenario('k8s-pod-kill-self-heal.yaml'), scenario('k8s-node-failure-drain.yaml'), '--parallel', '2', '--reports-dir', reportsDir], { env: unbuilt });
    const sequential = await runCli(['run', scenario('k8s-pod-kill-self-heal.yaml'), scenario('k8s-blue-green-switch.yaml'), '--reports-dir', reportsDir], { env: unbuilt });
    for (const result of [mixed, sequential]) {
      // Each drill tried a control plane of its own (and could not start one here).
      expect(result.code, result.stdout + result.stderr).toBe(3);
      expect(result.stdout).not.toContain('shared control plane');
      expect(result.stdout.match(/^drill \S+: run /gm)).toHaveLength(2);
    }
    expect(readdirSync(clusters).filter((d) => d !== 'empty-cache')).toEqual([]);
  });
});
