import { CoreV1Api } from '@kubernetes/client-node';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { DRILL_TARGET_LABEL, type KubernetesCluster } from './types.js';

function refuse(what: string, why: string, fix: string): InputError {
  return new InputError('NOT_A_DRILL_TARGET', `${what} is destructive and ${why}; ${fix}. Nothing was touched.`);
}

/**
 * targets.kubernetes.allowedContexts: when given, the cluster's context must be one of them
 * (a guard against a wrong current-context or a typo reaching production). Throws NOT_A_DRILL_TARGET.
 */
export function refuseContextNotAllowed(cluster: Pick<KubernetesCluster, 'context' | 'targetPolicy'>, what = 'this drill'): void {
  const policy = cluster.targetPolicy;
  if (policy.kind !== 'labelled-namespaces' || !policy.allowedContexts || policy.allowedContexts.includes(cluster.context)) return;
  throw refuse(
    what,
    `context "${cluster.context}" is not one the drill may act through (targets.kubernetes.allowedContexts: ${policy.allowedContexts.join(', ') || 'none'})`,
    'select an allowed context (targets.kubernetes.context), or add this one to allowedContexts only if its cluster is meant for drills',
  );
}

/**
 * DESIGN.md section 6 for Kubernetes: call before anything destructive in `namespace`. A cluster
 * the harness created is all a drill target. In someone else's cluster the context must be an
 * allowed one (when a list is given) and the namespace must carry drill.dev/target=true; otherwise
 * this throws InputError NOT_A_DRILL_TARGET (exit 2) having only read the namespace.
 */
export async function requireDrillTargetNamespace(cluster: KubernetesCluster, namespace: string, what = 'this step'): Promise<void> {
  const policy = cluster.targetPolicy;
  if (policy.kind === 'whole-cluster') return;
  const where = `namespace "${namespace}" in context "${cluster.context}"`;
  refuseContextNotAllowed(cluster, what);
  const labelFix =
    `label the namespace only if you are prepared to lose what runs in it: ` +
    `kubectl --context ${cluster.context} label namespace ${namespace} ${DRILL_TARGET_LABEL}=true`;
  let labels: Record<string, string> | undefined;
  try {
    labels = (await cluster.connect().makeApiClient(CoreV1Api).readNamespace({ name: namespace })).metadata?.labels;
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code === 404) throw refuse(what, `${where} does not exist`, 'create it and label it for drills, or name an existing drill namespace');
    if (code === 401 || code === 403) {
      throw refuse(what, `the drill cannot read ${where} to check its ${DRILL_TARGET_LABEL} label (HTTP ${code})`, 'grant it get on namespaces');
    }
    throw new EnvironmentError('K8S_UNREACHABLE', `cannot read ${where}: ${(error as Error).message}`, { cause: error });
  }
  if (labels?.[DRILL_TARGET_LABEL] !== 'true') {
    throw refuse(what, `${where} is not labelled ${DRILL_TARGET_LABEL}=true`, labelFix);
  }
}
