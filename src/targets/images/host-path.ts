import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../../engine/errors.js';
import { hostFile } from './host-file.js';
import type { LayerEntry } from './layer-spec.js';

/**
 * The layer entries that make `hostPath` resolve in the image exactly as it does here: each
 * symlink met on the way (`/lib -> usr/lib`, `/lib64/ld-linux-x86-64.so.2 -> /lib/...`) becomes
 * the same symlink in the image, and the file it ends at is copied. A program's loader and
 * libraries are then found at the paths it was linked against, whatever the distribution's
 * layout (merged /usr or not).
 */
export async function mirrorHostPath(hostPath: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  let pending = path.resolve(hostPath);
  for (let hops = 0; hops < 40; hops++) {
    const link = await firstSymlink(pending);
    if (!link) {
      const { source, mode } = await hostFile(pending);
      entries.push({ type: 'file', path: pending, mode, source });
      return entries;
    }
    const target = await readlink(link.at);
    entries.push({ type: 'symlink', path: link.at, target });
    pending = path.resolve(path.dirname(link.at), target, link.rest);
  }
  throw new EnvironmentError('SYMLINK_LOOP', `${hostPath}: too many symbolic links; check the path`);
}

/** The first component of `absolute` (from the root) that is a symlink, and the path after it. */
async function firstSymlink(absolute: string): Promise<{ at: string; rest: string } | undefined> {
  const parts = absolute.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const at = `/${parts.slice(0, i).join('/')}`;
    const info = await lstat(at).catch((error: NodeJS.ErrnoException) => {
      throw new EnvironmentError('IMAGE_SOURCE_MISSING', `cannot read ${at} (${error.code ?? error.message}) while copying ${absolute} into an image`, { cause: error });
    });
    if (info.isSymbolicLink()) return { at, rest: parts.slice(i).join('/') };
  }
  return undefined;
}
