import { InputError } from '../../engine/errors.js';
import { KWOK_NODE_ANNOTATION } from './component-args.js';
import { apiStatus, type KubeApi } from './kube-api.js';

/**
 * The built-in TrustStram is ready only when its database answers (its readiness probe is
 * /health, which checks it). Deployed as real containers without the drill's PostgreSQL it would
 * never become available, and the drill would wait out `readyTimeout` before saying anything
 * useful. This says it before anything is deployed (exit 2).
 */
export function databaseRequired(where: string, options: { fakeNodesPossible: boolean }): InputError {
  return new InputError(
    'DATABASE_REQUIRED',
    `the built-in TrustStram runs as real containers on ${where} and passes readiness only with its database: ` +
      'add targets.postgres (e.g. postgres: {provider: auto}), whose DATABASE_URL the drill gives it' +
      (options.fakeNodesPossible ? ', or run it on fake nodes (targets.kubernetes.nodes: {fake: 3})' : '') +
      ', or deploy your own system (targets.kubernetes.manifests). Nothing was deployed.',
  );
}

/**
 * Whether pods of a cluster the drill did not start may run as real containers: a schedulable
 * node that kwok does not simulate. An identity that may not list nodes (a namespace in someone
 * else's cluster) is on a real cluster.
 */
export async function mayRunRealContainers(api: KubeApi): Promise<boolean> {
  const nodes = await api.core.listNode().catch((error: unknown) => {
    if (apiStatus(error) === 403) return undefined;
    throw error;
  });
  if (!nodes) return true;
  return nodes.items.some((n) => n.metadata?.annotations?.[KWOK_NODE_ANNOTATION] !== 'fake' && !n.spec?.unschedulable);
}
