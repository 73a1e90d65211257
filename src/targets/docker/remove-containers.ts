import createDebug from 'debug';
import { dockerRequest } from './docker-api.js';

const debug = createDebug('drill:reaper');

export interface RemovedContainers {
  /** Names of the containers removed. */
  removed: string[];
  /** Containers with those labels that are still there, with why (the engine refused, or did not answer in time). */
  failed: Array<{ name: string; reason: string }>;
  /** The engine did not answer the listing: nothing is known about its containers. */
  unreachable: boolean;
}

/**
 * Removes every container on the engine that carries all of these labels, with its anonymous
 * volumes, running or not (what a drill's teardown would have done). An engine that does not
 * answer, and a container it does not remove, are reported, not thrown: the reaper goes on with
 * the rest.
 */
export async function removeLabelledContainers(engine: string, labels: Record<string, string>): Promise<RemovedContainers> {
  const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }));
  const listed = await dockerRequest(engine, 'GET', `/containers/json?all=1&filters=${filters}`);
  if (!listed || listed.status !== 200) {
    debug('engine %s did not list containers (%s)', engine, listed ? `HTTP ${listed.status}` : 'no answer');
    return { removed: [], failed: [], unreachable: true };
  }
  const containers = JSON.parse(listed.body) as Array<{ Id: string; Names?: string[]; Labels?: Record<string, string> }>;
  const removed: string[] = [];
  const failed: RemovedContainers['failed'] = [];
  for (const c of containers) {
    // The engine filtered already; checked again so a filter the engine ignored cannot widen this.
    if (!Object.entries(labels).every(([k, v]) => c.Labels?.[k] === v)) continue;
    const name = c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
    const result = await dockerRequest(engine, 'DELETE', `/containers/${c.Id}?force=1&v=1`, 30_000);
    if (result?.status === 204) {
      removed.push(name);
    } else if (result?.status !== 404) {
      const reason = result ? `HTTP ${result.status} ${result.body.trim()}` : 'no answer within 30 s';
      debug('could not remove container %s: %s', c.Id.slice(0, 12), reason);
      failed.push({ name, reason });
    }
  }
  return { removed, failed, unreachable: false };
}
