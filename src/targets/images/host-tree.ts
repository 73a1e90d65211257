import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { hostFile } from './host-file.js';
import type { LayerEntry } from './layer-spec.js';

export interface HostTreeOptions {
  /** Where the tree goes in the image; default the same path as on the host. */
  at?: string;
  /** Paths relative to the tree's root (e.g. `man`, `lib/bitcode`) left out with everything under them. */
  exclude?: (relative: string) => boolean;
  /** Owner of every entry in the image; default root (a drill image's files are read-only to its user). */
  uid?: number;
  gid?: number;
}

/**
 * A host directory as layer entries, as it is: directories and files with their modes, symlinks
 * with their targets unchanged (relative ones keep working, absolute ones point where the host's
 * do). Owners are not copied: the image's user must not own what the host's packages installed.
 */
export async function hostTreeEntries(root: string, options: HostTreeOptions = {}): Promise<LayerEntry[]> {
  const base = path.resolve(root);
  const at = options.at ?? base;
  const owner = { uid: options.uid ?? 0, gid: options.gid ?? 0 };
  const entries: LayerEntry[] = [];
  const walk = async (relative: string): Promise<void> => {
    const hostPath = path.join(base, relative);
    const imagePath = path.posix.join(at, relative);
    const info = await lstat(hostPath);
    if (info.isSymbolicLink()) {
      entries.push({ type: 'symlink', path: imagePath, target: await readlink(hostPath) });
    } else if (info.isDirectory()) {
      entries.push({ type: 'directory', path: imagePath, mode: info.mode & 0o7777, ...owner });
      for (const name of (await readdir(hostPath)).sort()) {
        const child = path.posix.join(relative, name);
        if (!options.exclude?.(child)) await walk(child);
      }
    } else if (info.isFile()) {
      const { source, mode } = await hostFile(hostPath);
      entries.push({ type: 'file', path: imagePath, mode, ...owner, source });
    }
    // Sockets, FIFOs and devices have no place in an image.
  };
  await walk('');
  return entries;
}
