import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../../engine/errors.js';

/**
 * The first directory on the way to `dir` (from /) that a process of `who` cannot enter, by its
 * mode bits, or undefined when it can enter them all. Only the user's primary group counts: a
 * process spawned with a uid and gid (PostgreSQL under root) has no supplementary groups.
 */
export function firstUntraversable(dir: string, who: { uid: number; gid: number }): { dir: string; mode: number; uid: number; gid: number } | undefined {
  const real = realpathSync(dir);
  const parts = real.split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const at = path.sep + parts.slice(0, i).join(path.sep);
    const s = statSync(at);
    const bit = s.uid === who.uid ? 0o100 : s.gid === who.gid ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) return { dir: at, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  }
  return undefined;
}

/** Refuses, before anything is created, a directory the user PostgreSQL runs as could not reach (its own error comes later, as the server's). */
export function requireTraversable(dir: string, who: { uid: number; gid: number }, whose: string, fix: string): void {
  const blocked = firstUntraversable(dir, who);
  if (!blocked) return;
  throw new EnvironmentError(
    'DIRECTORY_NOT_TRAVERSABLE',
    `${whose} (uid ${who.uid}) cannot enter ${blocked.dir} (mode ${blocked.mode.toString(8).padStart(4, '0')}, owner ${blocked.uid}:${blocked.gid}) on the way to ${dir}; ${fix}`,
  );
}
