import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from './run-command.js';

export interface MountPoint {
  /** Where it is mounted (octal escapes of /proc/self/mountinfo decoded). */
  path: string;
  fstype: string;
  /** The mount source (a device, or the name a tmpfs was mounted with). */
  source: string;
}

/** The mount points in a /proc/<pid>/mountinfo text, in the order the kernel lists them. */
export function parseMountinfo(text: string): MountPoint[] {
  const mounts: MountPoint[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 7 || separator < 0) continue;
    mounts.push({ path: unescape(fields[4]!), fstype: fields[separator + 1] ?? '', source: unescape(fields[separator + 2] ?? '') });
  }
  return mounts;
}

/**
 * Mounts at or below `dir`, in the order they can be unmounted: deepest first, and of mounts
 * stacked on one path the newest first.
 */
export function mountsUnder(dir: string, mounts: MountPoint[]): MountPoint[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mounts
    .map((mount, order) => ({ mount, order }))
    .filter(({ mount }) => mount.path === dir || mount.path.startsWith(prefix))
    .sort((a, b) => depth(b.mount.path) - depth(a.mount.path) || b.order - a.order)
    .map(({ mount }) => mount);
}

export function currentMounts(): MountPoint[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

function depth(path: string): number {
  return path.split('/').length;
}

/** mountinfo escapes space, tab, newline and backslash as \\ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Unmounts everything at or below `dir`, deepest first; throws when something stays mounted. */
export async function unmountUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  // mountinfo lists resolved paths (/tmp may be a symlink elsewhere).
  const real = realpathSync(dir);
  const unmounted: string[] = [];
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(real, currentMounts());
    if (mounts.length === 0) return unmounted;
    for (const mount of mounts) {
      const done = await runCommand('umount', [mount.path], { timeoutMs: 30_000 }).then(
        () => true,
        // Still busy (a process of a dying container holds it): detach it; the kernel finishes
        // the unmount when the last user is gone.
        () => runCommand('umount', ['--lazy', mount.path], { timeoutMs: 30_000 }).then(() => true, () => false),
      );
      if (done) unmounted.push(`${mount.fstype} mount ${mount.path}`);
    }
  }
  const left = mountsUnder(real, currentMounts());
  if (left.length > 0) {
    throw new EnvironmentError(
      'UNMOUNT_FAILED',
      `could not unmount ${left.map((m) => m.path).join(', ')}; unmount them by hand (umount -l <path>) and remove ${dir}`,
    );
  }
  return unmounted;
}
