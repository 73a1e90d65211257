import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { networkName } from '../../src/targets/network/layout.js';
import { runCommand } from '../../src/targets/process/run-command.js';
import { readJournal, ROOT, runCli } from '../e2e/helpers.js';
import { ownersGone, runAndKill } from '../e2e/kill-helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// `drill run --parallel 2` with two Kubernetes drills that may share a cluster (no own-cluster
// need, the default nodes) and no DRILL_KUBECONFIG: one control plane is started for both (not the
// test project's shared one), both run on it at once, and it is gone afterwards.
const work = recordedTestDir('drill-shcp-');
const reportsDir = path.join(work, 'reports');
const runs = path.join(work, 'runs');
const clusters = path.join(work, 'clusters');
const env = { DRILL_KUBECONFIG: '', DRILL_RUNS_DIR: runs, DRILL_CLUSTERS_DIR: clusters };
afterAll(async () => {
  await runCli(['cleanup'], { env });
  removeRecordedTestDir(work);
});

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const kubernetesProvider = (journal: ReturnType<typeof readJournal>) => journal.events.find((e) => e.kind === 'provider' && e.message.startsWith('Kubernetes provider'))?.message;

/** Processes whose command line holds `text` (the cluster's keeper: `cluster keep --name <name>`). */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('--parallel: Kubernetes drills on one shared control plane', () => {
  it('two shareable drills with --parallel 2 run side by side on one control plane started for them; it is stopped and removed at the end', { timeout: 900_000 }, async () => {
    const result = await runCli(['run', scenario('k8s-pod-kill-self-heal.yaml'), scenario('k8s-blue-green-switch.yaml'), '--parallel', '2', '--reports-dir', reportsDir], { env });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    const name = /shared control plane (run-[a-z0-9-]+) for 2 drills: ready/.exec(result.stdout)?.[1];
    expect(name, output).toBeDefined();
    const kubeconfig = path.join(clusters, name!, 'kubeconfig');

    const runIds = [...result.stdout.matchAll(/^drill \S+: run (\S+)$/gm)].map((m) => m[1]!);
    expect(runIds).toHaveLength(2);
    const journals = runIds.map((id) => readJournal(path.join(reportsDir, id)));
    for (const journal of journals) {
      expect(journal.status).toBe('passed');
      // Each reused the shared cluster as it would a `drill cluster up` one, in a namespace of its own.
      expect(kubernetesProvider(journal)).toContain(`DRILL_KUBECONFIG names (${kubeconfig})`);
    }
    // Side by side: each started before the other ended.
    const [a, b] = journals.map((j) => ({ start: Date.parse(j.startedAt), end: Date.parse(j.endedAt!) }));
    expect(a!.start).toBeLessThan(b!.end);
    expect(b!.start).toBeLessThan(a!.end);

    // Gone: its keeper, its directory (state, kubeconfig, ledger), its drill network, its run ledger.
    expect(result.stdout).toContain(`shared control plane ${name} for 2 drills: starting`);
    expect(result.stdout).toContain(`shared control plane ${name}: stopped`);
    expect(processesWith(`cluster keep --name ${name}`)).toEqual([]);
    expect(existsSync(path.join(clusters, name!))).toBe(false);
    const netns = await runCommand('ip', ['netns', 'list'], { timeoutMs: 10_000 });
    expect(netns.stdout).not.toContain(networkName('cluster', name!));
    expect(listRunLedgers(runs)).toEqual([]);
  });

  it('kill -9 of `drill run` while the drills run on it: the drills stop, `drill cleanup` then stops the shared control plane', { timeout: 900_000 }, async () => {
    const killed = await runAndKill({
      scenario: scenario('k8s-pod-kill-self-heal.yaml'),
      args: [scenario('k8s-blue-green-switch.yaml'), '--parallel', '2'],
      reportsDir,
      env,
      groups: 'cli',
      when: (s) => s.started.includes('Baseline (steady state)'),
      what: 'the baseline',
      reachTimeoutMs: 420_000,
    });
    const name = /shared control plane (run-[a-z0-9-]+) for 2 drills: ready/.exec(killed.cli.stdout)?.[1];
    expect(name, killed.cli.stdout).toBeDefined();
    const clusterLedger = listRunLedgers(runs).find((f) => path.basename(f).includes('-shared-cluster-'));
    expect(clusterLedger).toBeDefined();
    // Negative control: killed, `drill run` stopped nothing; the keeper still runs.
    expect(processesWith(`cluster keep --name ${name}`).length).toBeGreaterThan(0);
    expect(existsSync(path.join(clusters, name!, 'kubeconfig'))).toBe(true);
    // The drills on it notice their `drill run` is gone and tear down.
    await ownersGone(clusterLedger!);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`removed cluster ${name}`);
    expect(processesWith(`cluster keep --name ${name}`)).toEqual([]);
    expect(existsSync(path.join(clusters, name!))).toBe(false);
    const netns = await runCommand('ip', ['netns', 'list'], { timeoutMs: 10_000 });
    expect(netns.stdout).not.toContain(networkName('cluster', name!));
    expect(listRunLedgers(runs)).toEqual([]);
  });
});
