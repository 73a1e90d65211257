import { EnvironmentError } from '../../../engine/errors.js';
import { inDrillNetwork } from '../../network/in-drill-network.js';
import { HOST_BRIDGE, HOST_IP } from '../../network/layout.js';

/**
 * Real nodes put addresses on the drill network's bridge and pods on bridges of their own: only
 * ever inside a network namespace the drill created (the networking rule). The caller must run in
 * one: `drill run` and `npm test` start their processes there.
 */
export async function requireDrillNetwork(): Promise<void> {
  if (await inDrillNetwork()) return;
  throw new EnvironmentError(
    'NOT_IN_DRILL_NETWORK',
    `real nodes run only inside a drill network (a network namespace with bridge ${HOST_BRIDGE} at ${HOST_IP}), and this process is not in one. ` +
      'Run drills through `npx drill run` and the tests through `npm test`, which create it; or ask for fake nodes (targets.kubernetes.nodes: {fake: 3})',
  );
}
