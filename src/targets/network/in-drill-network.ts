import { HOST_BRIDGE, HOST_IP } from './layout.js';
import { ip } from './ip-command.js';

/** Whether this process runs inside a drill network (its bridge carries the host address). */
export async function inDrillNetwork(): Promise<boolean> {
  const { stdout } = await ip(['-4', '-j', 'addr', 'show', 'dev', HOST_BRIDGE], [0, 1]).catch(() => ({ stdout: '' }));
  const addrs = (JSON.parse(stdout || '[]') as { addr_info?: { local: string }[] }[]).flatMap((l) => l.addr_info ?? []).map((a) => a.local);
  return addrs.includes(HOST_IP);
}
