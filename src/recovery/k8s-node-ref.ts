import type { DrillContext } from '../engine/drill-context.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import { isNotFound } from '../targets/kubernetes/kube-api.js';

/** `failed` is the node the drill's node fault took down (the newest); any other value names a node, which must exist. */
export async function resolveNode(ctx: DrillContext, ref: string, step: string): Promise<string> {
  if (ref === 'failed') {
    const node = ctx.k8s.failedNodes.at(-1);
    if (!node) throw new InputError('NO_FAILED_NODE', `${step} node: failed needs a k8s-node-failure fault before it; name the node instead`);
    return node;
  }
  await ctx.k8s.api.core.readNode({ name: ref }).catch((error: unknown) => {
    if (isNotFound(error)) throw new StepFailedError('NODE_NOT_FOUND', `${step}: there is no node "${ref}"`);
    throw error;
  });
  return ref;
}
