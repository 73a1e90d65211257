import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { sweepContainerd } from './containerd-sweep.js';

/**
 * The reaper of a private containerd's ledger entry: after its `process` entry has been stopped,
 * whatever containerd leaves when it dies (containers, shims, mounts, its directory).
 */
export async function reapContainerd(r: Extract<Resource, { kind: 'containerd' }>): Promise<ReapOutcome> {
  try {
    const swept = await sweepContainerd(r);
    return swept.length > 0 ? removed(`containerd ${r.dir} (${swept.length} leftover(s): ${swept.join(', ')})`) : ABSENT;
  } catch (error) {
    return left(`containerd ${r.dir}`, error instanceof Error ? error.message : String(error));
  }
}
