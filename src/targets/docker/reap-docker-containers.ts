import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { removeLabelledContainers } from './remove-containers.js';

/**
 * The reaper of a `docker-container` entry: removes the containers on the recorded engine that
 * carry the entry's labels (a deployment id of their own, so never another drill's). An engine
 * that does not answer is `left`, not `absent`: its containers may well still exist (the engine is
 * stopped, or the reaper runs outside its network namespace), so the ledger keeps the entry for a
 * later `drill cleanup` where the engine answers.
 */
export async function reapDockerContainers(r: Extract<Resource, { kind: 'docker-container' }>): Promise<ReapOutcome> {
  const labels = Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(',');
  const outcome = await removeLabelledContainers(r.engine, r.labels);
  if (outcome.unreachable) {
    return left(
      `containers labelled ${labels} on ${r.engine}`,
      `the Docker engine at ${r.engine} does not answer; start it (tools/local-docker.sh start, then run drill cleanup through ` +
        'tools/local-docker.sh exec) or, if it is gone for good with its containers, remove the run ledger',
    );
  }
  if (outcome.failed.length > 0) {
    return left(`container ${outcome.failed.map((f) => f.name).join(', ')}`, outcome.failed.map((f) => `${f.name}: ${f.reason}`).join('; '));
  }
  return outcome.removed.length > 0 ? removed(`container ${outcome.removed.join(', ')}`) : ABSENT;
}
