import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startClock } from '../../src/engine/clock.js';
import { createRecordedTempDir } from '../../src/engine/recorded-temp-dir.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { RunLedger, runsDir } from '../../src/engine/run-ledger.js';
import { applicationConnection, databaseUrl } from '../../src/targets/kubernetes/database-url.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { buildNodeImages } from '../../src/targets/kubernetes/real-nodes/node-images.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { GUARD_CIDR, HOST_IP } from '../../src/targets/network/layout.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { createDataset } from '../../src/workload/dataset.js';

/** What test/kubernetes/ files get through inject('k8s'). */
export interface SharedControlPlane {
  kubeconfigPath: string;
  context: string;
  auditLogPath: string;
  root: string;
  /** The fake (kwok) nodes; tainted drill.dev/fake-node=true:NoSchedule beside the real ones. */
  nodes: string[];
  /** The real nodes (containerd + kubelet): the built-in system under drill runs there. */
  realNodes: string[];
  components: Array<{ name: string; pid: number }>;
  /**
   * DATABASE_URL of a PostgreSQL with the drill's data set that pods reach (the drill network's
   * host address), for tests that deploy the built-in system without a drill of their own.
   */
  databaseUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    k8s: SharedControlPlane;
  }
}

/**
 * One local control plane for every file in test/kubernetes/, started once per test run (starting
 * one per file would multiply the apiserver's start-up on a 2-core machine): two real nodes
 * running the system under drill as containers, three fake nodes for node-churn tests, and one
 * PostgreSQL with the drill's data set for the system's pods. It needs the drill network `npm
 * test` runs in. It is real, so a missing build fails these tests (EnvironmentError naming the
 * build command) rather than skipping them. Teardown checks that nothing it started is left.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // In the machine-wide run ledger with this (vitest's main) process as owner, like a drill: a
  // vitest killed by a CI timeout leaves an apiserver, kubelets and a PostgreSQL that the next
  // `drill run` or `drill cleanup` must find and stop.
  const machine = RunLedger.create(runsDir(), { runId: `vitest-k8s-${process.pid}`, runDir: '' });
  const ledgerDir = createRecordedTempDir(machine, 'drill-vitest-k8s-');
  const ledgerFile = path.join(ledgerDir, 'resources.jsonl');
  const ledger = new ResourceLedger(ledgerFile, machine);
  let cp: LocalControlPlane | undefined;
  let pg: NativeDeployment | undefined;
  const teardown = async () => {
    await cp?.dispose();
    await pg?.dispose();
    const left = readResources(ledgerFile).flatMap((r) => {
      if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) return [`${r.name} (pid ${r.pid})`];
      if (r.kind === 'temp-dir' && existsSync(r.path)) return [r.path];
      return [];
    });
    rmSync(ledgerDir, { recursive: true, force: true });
    if (left.length > 0) {
      // The machine-wide entry stays: `drill cleanup` reaps what is listed there.
      // vitest only logs an error thrown here ("error during close") and still exits 0.
      process.exitCode = 1;
      throw new Error(`the shared control plane left behind: ${left.join(', ')} (run \`drill cleanup\`)`);
    }
    machine.remove();
  };
  try {
    const runId = `vitest-${process.pid}`;
    pg = await NativeDeployment.create({ runId, clock: startClock(), ledger, hostAddress: { address: HOST_IP, clients: GUARD_CIDR } }, (d) => (pg = d));
    await createDataset(pg.primary.connection, { accounts: 200, transfers: 1000 });
    const nodeImages = await buildNodeImages();
    cp = await LocalControlPlane.start({ runId, ledger, nodes: 3, realNodes: 2, nodeImages }, (c) => (cp = c));
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  project.provide('k8s', {
    kubeconfigPath: cp.kubeconfigPath,
    context: cp.context,
    auditLogPath: cp.auditLogPath,
    root: cp.root,
    nodes: cp.fakeNodeNames,
    realNodes: cp.realNodeNames,
    components: cp.components.map((c) => ({ name: c.name, pid: c.pid })),
    databaseUrl: databaseUrl({ ...applicationConnection(pg.primary.connection, HOST_IP), database: 'drill' }),
  });
  return teardown;
}
