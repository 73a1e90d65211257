import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { isPostgresPid } from '../targets/postgres/native-process.js';
import { runCommand } from '../targets/process/run-command.js';
import { stopRecordedProcess } from '../targets/kubernetes/recorded-process.js';
import { reapNamespace } from '../targets/kubernetes/reap-namespace.js';
import { removeLabelledContainers } from '../targets/docker/remove-containers.js';
import { readResources } from './resource-ledger.js';

const debug = createDebug('drill:reaper');

/**
 * Stops and removes whatever a drill recorded in its resource ledger and did not clean up itself
 * (its process was killed, or teardown failed). Safe to run when everything is already gone.
 * Returns what it had to clean, for the journal and for tests.
 */
export async function reapResources(ledgerFile: string): Promise<string[]> {
  const reaped: string[] = [];
  const resources = readResources(ledgerFile);
  for (const r of resources.filter((r) => r.kind === 'pg-data-dir')) {
    const pidFile = path.join(r.path, 'postmaster.pid');
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    // A stale pid file (the server crashed) may name a pid now used by an unrelated process:
    // neither pg_ctl's signal nor ours may reach it.
    if (!isPostgresPid(pid)) continue;
    debug('stopping leftover PostgreSQL in %s (pid %d)', r.path, pid);
    await runCommand(path.join(r.bindir, 'pg_ctl'), ['-D', r.path, 'stop', '-m', 'immediate', '-w', '-t', '20'], {
      runAs: r.uid === undefined ? undefined : { uid: r.uid, gid: r.gid! },
    }).catch(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    reaped.push(`postgres ${r.path}`);
  }
  // Containers (testcontainers PostgreSQL): removing one stops every server in it.
  for (const r of resources.filter((r) => r.kind === 'docker-container')) {
    const { removed } = await removeLabelledContainers(r.engine, r.labels);
    for (const name of removed) reaped.push(`container ${name}`);
  }
  // Namespaces in clusters that outlive the drill; their deletion is only started, not awaited.
  for (const r of resources.filter((r) => r.kind === 'k8s-namespace')) {
    if (await reapNamespace(r.kubeconfig, r.context, r.name, r.runId)) reaped.push(`namespace ${r.name}`);
  }
  // Kubernetes components and kind clusters (src/targets/kubernetes), newest first: kwok and the
  // controllers stop before the apiserver, the apiserver before etcd.
  for (const r of resources.filter((r) => r.kind === 'process').reverse()) {
    if (!(await stopRecordedProcess(r.pid, r.match))) continue;
    debug('stopped leftover %s (pid %d)', r.name, r.pid);
    reaped.push(`process ${r.name} ${r.pid}`);
  }
  const kindClusters = resources.filter((r) => r.kind === 'kind-cluster');
  if (kindClusters.length > 0) {
    // `kind delete` succeeds for a missing cluster too: ask which still exist, to report only those.
    const existing = await runCommand('kind', ['get', 'clusters'], { timeoutMs: 30_000 }).then(
      (r) => r.stdout.split('\n').map((l) => l.trim()),
      () => [] as string[],
    );
    for (const r of kindClusters.filter((r) => existing.includes(r.name))) {
      await runCommand('kind', ['delete', 'cluster', '--name', r.name], { timeoutMs: 120_000 }).catch((e: unknown) =>
        debug('kind delete cluster %s: %s', r.name, String(e)),
      );
      reaped.push(`kind-cluster ${r.name}`);
    }
  }
  for (const r of resources.filter((r) => r.kind === 'temp-dir')) {
    if (!existsSync(r.path)) continue;
    rmSync(r.path, { recursive: true, force: true });
    reaped.push(`dir ${r.path}`);
  }
  return reaped;
}
