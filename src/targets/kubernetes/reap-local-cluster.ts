import { existsSync } from 'node:fs';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';

const debug = createDebug('drill:reaper');

/**
 * Stops the control plane a killed `drill run` shared between its Kubernetes drills, as
 * `drill cluster down` does: its keeper (only while its command line is still that keeper's),
 * what the cluster left (its ledger, beside its state), its drill network, its directory. A
 * directory that is gone means the cluster is.
 */
export async function reapLocalCluster(r: Extract<Resource, { kind: 'local-cluster' }>): Promise<ReapOutcome> {
  // Loaded here: the CLI's cluster module reaps through this registry itself.
  const { clusterFiles } = await import('../../cli/cluster-state.js');
  const { stopLocalCluster } = await import('../../cli/cluster.js');
  const files = clusterFiles(r.name, { DRILL_CLUSTERS_DIR: r.root });
  if (!existsSync(files.dir)) return ABSENT;
  const what = `cluster ${r.name}`;
  try {
    const stopped = await stopLocalCluster(files);
    debug('stopped shared cluster %s: %o', r.name, stopped);
    return existsSync(files.dir) ? left(what, `${files.dir} is still there`) : removed(what);
  } catch (error) {
    debug('could not stop cluster %s: %s', r.name, String(error));
    return left(what, `${error instanceof Error ? error.message : String(error)}; try \`npx drill cluster down --name ${r.name}\``);
  }
}
