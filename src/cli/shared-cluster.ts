import { existsSync } from 'node:fs';
import { RunLedger, runsDir } from '../engine/run-ledger.js';
import { clusterFiles, clustersRoot } from './cluster-state.js';
import { startLocalCluster, stopLocalCluster } from './cluster.js';
import { SHARED_CLUSTER_NODES } from './shared-cluster-plan.js';

/**
 * The control plane `drill run --parallel N` starts for the Kubernetes drills that share it
 * (src/cli/shared-cluster-plan.ts): a `drill cluster up --local` cluster named `run-<stamp>-<pid>`,
 * kept by the same detached keeper. It has a run ledger of its own, written before the keeper
 * starts, owned by this `drill run` and by each drill's process on it: after a kill -9 of
 * `drill run`, `drill cleanup` (or the next run) stops it once no drill on it runs any more.
 */
export class SharedCluster {
  private constructor(
    readonly name: string,
    readonly kubeconfig: string,
    private readonly ledger: RunLedger,
  ) {}

  /** Ledgers of drills that ran on it, whose only leftovers are objects in it: removed once it is gone. */
  private readonly ledgersGoingWithIt: RunLedger[] = [];

  static async start(say: (line: string) => void, drills: number): Promise<SharedCluster> {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const name = `run-${stamp.toLowerCase()}-${process.pid}`;
    const ledger = RunLedger.create(runsDir(), { runId: `${stamp}-shared-cluster-${process.pid}`, runDir: '' });
    ledger.record({ kind: 'local-cluster', name, root: clustersRoot() });
    say(`drill: shared control plane ${name} for ${drills} drills: starting (${SHARED_CLUSTER_NODES.real} real nodes)`);
    try {
      const state = await startLocalCluster(name, SHARED_CLUSTER_NODES);
      say(`drill: shared control plane ${name} for ${drills} drills: ready (kubeconfig ${state.kubeconfig})`);
      return new SharedCluster(name, state.kubeconfig, ledger);
    } catch (error) {
      // startLocalCluster stopped what it started; its directory (and log) go with the ledger entry.
      await new SharedCluster(name, '', ledger).stop(() => undefined);
      throw error;
    }
  }

  /** A drill's process runs on it: the cluster outlives a killed `drill run` until that process is gone. */
  addDrill(pid: number): void {
    this.ledger.addOwner('vitest', pid);
  }

  /**
   * A drill's run ledger that holds nothing but objects in this cluster (its namespace): removed
   * when the cluster is. Kept until then, so that after a kill -9 the reaper still sees them; it
   * reaps this cluster's ledger first (its run id is older), after which those are gone with it.
   */
  removeWithIt(ledger: RunLedger): void {
    this.ledgersGoingWithIt.push(ledger);
  }

  /** Stops it (idempotent); the ledger goes once nothing of it is left, otherwise `drill cleanup` retries. */
  async stop(say: (line: string) => void): Promise<void> {
    const files = clusterFiles(this.name);
    const { left } = await stopLocalCluster(files);
    if (left.length > 0) say(`drill: shared control plane ${this.name}: removed what was left running: ${left.join(', ')}`);
    if (existsSync(files.dir)) {
      say(`drill: shared control plane ${this.name}: could not remove ${files.dir} (kept in ${this.ledger.file}; \`npx drill cleanup\` retries)`);
      return;
    }
    for (const l of this.ledgersGoingWithIt) l.remove();
    this.ledger.remove();
    say(`drill: shared control plane ${this.name}: stopped`);
  }
}
