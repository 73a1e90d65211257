import type { V1Node } from '@kubernetes/client-node';
import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import { formatDuration } from '../scenario/duration.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { unschedulableReason } from '../targets/kubernetes/node-capacity.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-replace-node' }>;

const nameOf = (n: V1Node) => n.metadata!.name!;

/**
 * Runbook "Scale node group to replace nodes": `aws autoscaling set-desired-capacity
 * --desired-capacity <desiredNodes>`. Capacity is counted as the group would need it: Ready,
 * schedulable nodes (a NotReady, cordoned, tainted or deleted node does not count), and as many new
 * nodes join as are missing, each in the zone with the fewest live nodes. Nothing is removed when
 * there are more (scaling in is not part of the recovery). Postcondition: within the step's time,
 * every new node is Ready and schedulable and the cluster has at least desiredNodes such nodes.
 */
export async function k8sReplaceNode(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const k8s = ctx.k8s;
  // Before the target check: on a cluster the drill cannot add nodes to, that is what to say (exit 3).
  k8s.requireNodeProvisioning('k8s-replace-node');
  await k8s.requireDrillTarget('k8s-replace-node', 'cluster');
  const desired = step.desiredNodes ?? k8s.nodesAtStart;
  if (desired === undefined) {
    throw new InputError('DESIRED_NODES_UNKNOWN', 'k8s-replace-node: the node count the drill started with was not recorded for this cluster; set desiredNodes');
  }
  const deadline = Date.now() + waitBudgetMs(step.timeout);
  const listNodes = async () => (await k8s.api.core.listNode()).items;
  const schedulable = (nodes: V1Node[]) => nodes.filter((n) => unschedulableReason(n) === undefined).map(nameOf).sort();

  const before = schedulable(await listNodes());
  const started = Date.now();
  const requested = new Map<string, number>();
  for (let i = before.length; i < desired; i++) {
    const at = Date.now();
    // Not waiting for Ready here: the nodes join side by side, and the wait below is cut at the step's time.
    requested.set(await k8s.addNode(undefined, undefined, { waitReady: false }), at);
  }

  const joinedAfterMs = new Map<string, number>();
  let nodes = await listNodes();
  for (;;) {
    const now = Date.now();
    for (const n of nodes) {
      const at = requested.get(nameOf(n));
      if (at !== undefined && !joinedAfterMs.has(nameOf(n)) && unschedulableReason(n) === undefined) joinedAfterMs.set(nameOf(n), now - at);
    }
    if (joinedAfterMs.size === requested.size && schedulable(nodes).length >= desired) break;
    if (now > deadline) {
      const why = (name: string) => {
        const node = nodes.find((n) => nameOf(n) === name);
        return node ? unschedulableReason(node) : 'deleted';
      };
      const waiting = [...requested.keys()].filter((name) => !joinedAfterMs.has(name)).map((name) => `${name}: ${why(name)}`);
      throw new StepFailedError(
        'NODE_CAPACITY_NOT_RESTORED',
        `set-desired-capacity ${desired}: ${schedulable(nodes).length} Ready, schedulable node(s) after ${formatDuration(waitBudgetMs(step.timeout))}` +
          (waiting.length ? `; new nodes not schedulable yet: ${waiting.join('; ')}` : '; a node that was schedulable no longer is') +
          ' (see kwok\'s log in the cluster\'s temp dir, and the controller manager\'s)',
      );
    }
    await sleep(250, ctx.signal);
    nodes = await listNodes();
  }

  const zoneOf = (name: string) => nodes.find((n) => nameOf(n) === name)?.metadata?.labels?.['topology.kubernetes.io/zone'];
  const added = [...requested.keys()].map((node) => ({ node, zone: zoneOf(node), readyAfterMs: joinedAfterMs.get(node)! }));
  ctx.recorder.event(
    'node-group',
    added.length
      ? `node group at ${desired}: ${added.map((a) => `${a.node} (${a.zone ?? 'no zone'}) schedulable after ${formatDuration(a.readyAfterMs)}`).join(', ')}`
      : `node group already at ${before.length} schedulable node(s), desired ${desired}: nothing added`,
  );
  return {
    desiredNodes: desired,
    desiredFrom: step.desiredNodes !== undefined ? 'desiredNodes' : 'nodes at drill start',
    schedulableBefore: before,
    added,
    schedulableAfter: schedulable(nodes),
    tookMs: Date.now() - started,
  };
}
