import type { ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { DRILLFS_FSTYPE } from './drillfs-mount.js';
import { reapDrillMount } from './reap-mount.js';

/**
 * Unmounts a drillfs mount a drill made (src/targets/process/drillfs-mount.ts), with the same
 * ownership checks as a tmpfs volume. Its daemon ends once the mount is gone (or is already gone: a
 * killed daemon leaves a mount that answers "Transport endpoint is not connected", which umount
 * still removes). Runs after the processes stage, so the PostgreSQL that used it is stopped.
 */
export function reapFuseMount(r: Extract<Resource, { kind: 'fuse-mount' }>): Promise<ReapOutcome> {
  return reapDrillMount({ what: `drillfs mount ${r.path}`, path: r.path, source: r.source, fstype: DRILLFS_FSTYPE, kind: 'mount' });
}
