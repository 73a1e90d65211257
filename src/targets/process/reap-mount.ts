import path from 'node:path';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { currentMounts } from './mounts.js';
import { runCommand } from './run-command.js';

/**
 * Unmounts a tmpfs a drill mounted (src/targets/process/tmpfs-volume.ts). Runs after the processes
 * stage, so the PostgreSQL that used it is gone.
 */
export function reapMount(r: Extract<Resource, { kind: 'mount' }>): Promise<ReapOutcome> {
  return reapDrillMount({ what: `tmpfs mount ${r.path}`, path: r.path, source: r.source, fstype: 'tmpfs', kind: 'volume' });
}

/**
 * Unmounts a mount a drill made: only one at the recorded path, of the given type, whose source is
 * the recorded `drill-…` name, and only under a drill temp directory: a damaged or hand-edited
 * ledger must never unmount someone else's file system. Shared by the tmpfs and drillfs reapers.
 */
export async function reapDrillMount(m: { what: string; path: string; source: string; fstype: string; kind: string }): Promise<ReapOutcome> {
  const ours = () => currentMounts().filter((x) => x.path === m.path && x.fstype === m.fstype && x.source === m.source);
  if (ours().length === 0) return ABSENT;
  if (!m.source.startsWith('drill-') || !path.isAbsolute(m.path) || !m.path.split('/').some((part) => part.startsWith('drill-'))) {
    return left(m.what, `not a drill ${m.kind} (source and path must be drill-…); not unmounted: unmount it by hand if it is one`);
  }
  for (let i = ours().length; i > 0; i--) {
    const done = await runCommand('umount', [m.path], { timeoutMs: 30_000 }).then(
      () => true,
      // Busy (a process still has a file open there): detach it; the kernel frees it when the last user is gone.
      () => runCommand('umount', ['--lazy', m.path], { timeoutMs: 30_000 }).then(() => true, () => false),
    );
    if (!done) return left(m.what, `umount failed; unmount it by hand (umount -l ${m.path})`);
  }
  return ours().length === 0 ? removed(m.what) : left(m.what, `still mounted; unmount it by hand (umount -l ${m.path})`);
}
