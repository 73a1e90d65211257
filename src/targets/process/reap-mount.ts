import path from 'node:path';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { currentMounts } from './mounts.js';
import { runCommand } from './run-command.js';

/**
 * Unmounts a tmpfs a drill mounted (src/targets/process/tmpfs-volume.ts). Only a mount at the
 * recorded path, of type tmpfs, whose source is the recorded `drill-…` name, and only under a
 * drill temp directory: a damaged or hand-edited ledger must never unmount someone else's file
 * system. Runs after the processes stage, so the PostgreSQL that used it is gone.
 */
export async function reapMount(r: Extract<Resource, { kind: 'mount' }>): Promise<ReapOutcome> {
  const what = `tmpfs mount ${r.path}`;
  const ours = () => currentMounts().filter((m) => m.path === r.path && m.fstype === 'tmpfs' && m.source === r.source);
  if (ours().length === 0) return ABSENT;
  if (!r.source.startsWith('drill-') || !path.isAbsolute(r.path) || !r.path.split('/').some((part) => part.startsWith('drill-'))) {
    return left(what, 'not a drill volume (source and path must be drill-…); not unmounted: unmount it by hand if it is one');
  }
  for (let i = ours().length; i > 0; i--) {
    const done = await runCommand('umount', [r.path], { timeoutMs: 30_000 }).then(
      () => true,
      // Busy (a process still has a file open there): detach it; the kernel frees it when the last user is gone.
      () => runCommand('umount', ['--lazy', r.path], { timeoutMs: 30_000 }).then(() => true, () => false),
    );
    if (!done) return left(what, `umount failed; unmount it by hand (umount -l ${r.path})`);
  }
  return ours().length === 0 ? removed(what) : left(what, `still mounted; unmount it by hand (umount -l ${r.path})`);
}
