import { DOCKER_VARIABLES } from '../process/child-environment.js';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { runCommand } from '../process/run-command.js';

const debug = createDebug('drill:reaper');

/**
 * Deletes a kind cluster a drill created (its name holds the run id and a hash of it, so it is
 * not someone else's). `kind delete` succeeds for a missing cluster too: `kind get clusters` says
 * whether there is one, so only a real deletion is reported. Without kind (or Docker) the cluster
 * cannot exist any more.
 */
export async function reapKindCluster(r: Extract<Resource, { kind: 'kind-cluster' }>): Promise<ReapOutcome> {
  const existing = await runCommand('kind', ['get', 'clusters'], { passEnv: DOCKER_VARIABLES, timeoutMs: 30_000 }).then(
    (result) => result.stdout.split('\n').map((l) => l.trim()),
    () => [] as string[],
  );
  if (!existing.includes(r.name)) return ABSENT;
  const what = `kind-cluster ${r.name}`;
  try {
    await runCommand('kind', ['delete', 'cluster', '--name', r.name], { passEnv: DOCKER_VARIABLES, timeoutMs: 120_000 });
    return removed(what);
  } catch (error) {
    debug('kind delete cluster %s: %s', r.name, String(error));
    return left(what, error instanceof Error ? error.message : String(error));
  }
}
