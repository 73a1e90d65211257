import { ABSENT, left, removed, type ReapOutcome } from '../../../engine/reap-outcome.js';
import type { Resource } from '../../../engine/resource-ledger.js';
import { removeCgroupTree } from './cgroup-root.js';

/** A real node's cgroup tree, once its processes are gone (reaped in an earlier stage). */
export async function reapCgroup(r: Extract<Resource, { kind: 'cgroup' }>): Promise<ReapOutcome> {
  try {
    const from = await removeCgroupTree(r.path, { timeoutMs: 10_000 });
    return from.length > 0 ? removed(`cgroup ${r.path}`) : ABSENT;
  } catch (error) {
    return left(`cgroup ${r.path}`, error instanceof Error ? error.message : String(error));
  }
}
