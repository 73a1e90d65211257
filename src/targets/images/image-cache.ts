import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { drillCacheDir } from '../../engine/cache-dir.js';

/**
 * `${DRILL_CACHE_DIR:-~/.cache/drill}/images`: built layers, the pause binary and image archives,
 * each under a name derived from its content, so a hit is always right and removing the
 * directory is always safe (the next build makes it again).
 */
export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(drillCacheDir(env), 'images');
}

/**
 * Writes `final` through `write(tempPath)` and renames it into place, so a reader never sees a
 * half-written file and two builders of the same content race harmlessly (the last rename wins
 * with identical bytes).
 */
export async function writeAtomically<T>(final: string, write: (tempPath: string) => Promise<T>): Promise<T> {
  await mkdir(path.dirname(final), { recursive: true });
  const temp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const result = await write(temp);
    await rename(temp, final);
    return result;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
