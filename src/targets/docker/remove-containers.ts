import createDebug from 'debug';
import { dockerRequest } from './docker-api.js';

const debug = createDebug('drill:reaper');

/**
 * Removes every container on the engine that carries all of these labels, with its anonymous
 * volumes, running or not (what a drill's teardown would have done). Returns the names of those it
 * removed. An engine that does not answer is reported, not thrown: the reaper goes on with the rest.
 */
export async function removeLabelledContainers(engine: string, labels: Record<string, string>): Promise<{ removed: string[]; unreachable: boolean }> {
  const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }));
  const listed = await dockerRequest(engine, 'GET', `/containers/json?all=1&filters=${filters}`);
  if (!listed || listed.status !== 200) {
    debug('engine %s did not list containers (%s)', engine, listed ? `HTTP ${listed.status}` : 'no answer');
    return { removed: [], unreachable: true };
  }
  const containers = JSON.parse(listed.body) as Array<{ Id: string; Names?: string[]; Labels?: Record<string, string> }>;
  const removed: string[] = [];
  for (const c of containers) {
    // The engine filtered already; checked again so a filter the engine ignored cannot widen this.
    if (!Object.entries(labels).every(([k, v]) => c.Labels?.[k] === v)) continue;
    const result = await dockerRequest(engine, 'DELETE', `/containers/${c.Id}?force=1&v=1`, 30_000);
    if (result?.status === 204) {
      removed.push(c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12));
    } else if (result?.status !== 404) {
      debug('could not remove container %s: %s', c.Id.slice(0, 12), result ? `HTTP ${result.status} ${result.body}` : 'no answer');
    }
  }
  return { removed, unreachable: false };
}
