import { EnvironmentError } from '../../../engine/errors.js';
import { HOST_BRIDGE, HOST_IP } from '../../network/layout.js';
import { ip } from '../../network/ip-command.js';

/**
 * Real nodes put addresses on the drill network's bridge and pods on bridges of their own: only
 * ever inside a network namespace the drill created (the networking rule). The caller must run in
 * one: `drill run` and `npm test` start their processes there.
 */
export async function requireDrillNetwork(): Promise<void> {
  const { stdout } = await ip(['-4', '-j', 'addr', 'show', 'dev', HOST_BRIDGE], [0, 1]);
  const addrs = (JSON.parse(stdout || '[]') as { addr_info?: { local: string }[] }[]).flatMap((l) => l.addr_info ?? []).map((a) => a.local);
  if (!addrs.includes(HOST_IP)) {
    throw new EnvironmentError(
      'NOT_IN_DRILL_NETWORK',
      `real nodes run only inside a drill network (a network namespace with bridge ${HOST_BRIDGE} at ${HOST_IP}), and this process is not in one. ` +
        'Run drills through `npx drill run` and the tests through `npm test`, which create it; or ask for fake nodes (targets.kubernetes.nodes: {fake: 3})',
    );
  }
}
