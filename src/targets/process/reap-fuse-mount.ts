import path from 'node:path';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { DRILLFS_FSTYPE } from './drillfs-mount.js';
import { currentMounts } from './mounts.js';
import { runCommand } from './run-command.js';

/**
 * Unmounts a drillfs mount a drill made (src/targets/process/drillfs-mount.ts): only a mount at the
 * recorded path, of type fuse.drillfs, whose source is the recorded `drill-…` name, under a drill
 * temp directory. Its daemon ends once the mount is gone (or is already gone: a killed daemon leaves
 * a mount that answers "Transport endpoint is not connected", which umount still removes). Runs
 * after the processes stage, so the PostgreSQL that used it is stopped.
 */
export async function reapFuseMount(r: Extract<Resource, { kind: 'fuse-mount' }>): Promise<ReapOutcome> {
  const what = `drillfs mount ${r.path}`;
  const ours = () => currentMounts().filter((m) => m.path === r.path && m.fstype === DRILLFS_FSTYPE && m.source === r.source);
  if (ours().length === 0) return ABSENT;
  if (!r.source.startsWith('drill-') || !path.isAbsolute(r.path) || !r.path.split('/').some((part) => part.startsWith('drill-'))) {
    return left(what, 'not a drill mount (source and path must be drill-…); not unmounted: unmount it by hand if it is one');
  }
  for (let i = ours().length; i > 0; i--) {
    const done = await runCommand('umount', [r.path], { timeoutMs: 30_000 }).then(
      () => true,
      () => runCommand('umount', ['--lazy', r.path], { timeoutMs: 30_000 }).then(() => true, () => false),
    );
    if (!done) return left(what, `umount failed; unmount it by hand (umount -l ${r.path})`);
  }
  return ours().length === 0 ? removed(what) : left(what, `still mounted; unmount it by hand (umount -l ${r.path})`);
}
