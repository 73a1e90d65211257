import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ABSENT, left, removed, type ReapOutcome } from './reap-outcome.js';
import type { Resource } from './resource-ledger.js';

/** Every temp directory a drill creates is named `drill-…` (src/targets: native, local control plane, kind). */
const DRILL_DIR = /^drill-/;

/** Mount points at or below `dir` (Linux /proc/self/mountinfo; none known elsewhere). */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  // Field 5 is the mount point, with spaces etc. octal-escaped.
  const points = text.split('\n').map((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)));
}

/**
 * Removes a temp directory a drill created. Refuses a path that is not a drill temp directory (a
 * damaged or hand-edited ledger must not become `rm -rf` of anything), and one with something
 * mounted inside: a recursive delete would go into the mount and destroy what it shows. Mounts
 * are reaped in an earlier stage, so normally none is left by now.
 */
export function reapTempDir(r: Extract<Resource, { kind: 'temp-dir' }>): Promise<ReapOutcome> {
  const what = `dir ${r.path}`;
  if (!existsSync(r.path)) return Promise.resolve(ABSENT);
  const dir = path.resolve(r.path);
  if (!path.isAbsolute(r.path) || dir !== r.path.replace(/\/+$/, '') || !DRILL_DIR.test(path.basename(dir))) {
    return Promise.resolve(left(what, 'not a drill temp directory (drill-…); not removed: remove it by hand if it is one'));
  }
  const mounts = mountsUnder(dir);
  if (mounts.length > 0) return Promise.resolve(left(what, `still has mounts inside (${mounts.join(', ')}): unmount them first`));
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    return Promise.resolve(left(what, error instanceof Error ? error.message : String(error)));
  }
  return Promise.resolve(removed(what));
}
