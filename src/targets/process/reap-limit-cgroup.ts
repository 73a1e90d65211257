import { existsSync } from 'node:fs';
import path from 'node:path';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { controllerMount } from './cgroup-v1.js';
import { releaseCgroup } from './limit-cgroup.js';

/**
 * Lifts a resource fault's limit a killed drill left (src/targets/process/limit-cgroup.ts): every
 * process still in the cgroup back to its origin, the cgroup removed. Only a cgroup at
 * `<origin>/drill/<run>/<name>` of the recorded run, in the hierarchy mounted for its controller:
 * a damaged or hand-edited ledger must never empty someone else's cgroup. Runs in the cgroups
 * stage, after the processes stage has stopped the server, so usually only the directory is left.
 */
export async function reapLimitCgroup(r: Extract<Resource, { kind: 'limit-cgroup' }>): Promise<ReapOutcome> {
  const what = `${r.controller} cgroup ${r.path}`;
  const dir = path.join(r.mount, r.path);
  if (!existsSync(dir)) return ABSENT;
  const ownPath = path.posix.dirname(path.posix.dirname(r.path)) === path.posix.join(r.origin, 'drill') && path.posix.basename(path.posix.dirname(r.path)) === r.runId;
  if (!ownPath || r.path.split('/').includes('..') || controllerMount(r.controller)?.mount !== r.mount) {
    return left(what, `not a drill cgroup (<origin>/drill/<run>/<name> in the ${r.controller} hierarchy); not touched: move its processes out and rmdir it by hand if it is one`);
  }
  try {
    const moved = await releaseCgroup(r);
    return removed(moved.length > 0 ? `${what} (${moved.length} processes moved back to ${r.origin})` : what);
  } catch (error) {
    return left(what, error instanceof Error ? error.message : String(error));
  }
}
