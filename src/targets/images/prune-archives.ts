import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';

const debug = createDebug('drill:images');

/** How many archives of one name stay in the cache (each is about the size of its images). */
export const KEEP_ARCHIVES = 3;
// An archive used this recently may be being imported by another drill right now.
export const IN_USE_MS = 10 * 60_000;

/** Something in the cache and when it was last used (ms since the epoch; a cache hit touches it). */
export interface CacheItem {
  path: string;
  usedMs: number;
}

/**
 * Which of `items` go: all but the `keep` most recently used, and of those only what was not used
 * in the last `inUseMs` (another build or import may be reading it right now). Most recent first.
 */
export function staleCacheItems<T extends CacheItem>(items: T[], keep: number, now: number, inUseMs = IN_USE_MS): T[] {
  return [...items]
    .sort((a, b) => b.usedMs - a.usedMs)
    .slice(keep)
    .filter((item) => now - item.usedMs > inUseMs);
}

/**
 * Removes older archives of `name` from `<cacheDir>/archives`: every new service bundle makes a new
 * ~100 MB archive, and only the last few are ever imported again. Keeps the `keep` most recently
 * used (a cache hit touches its archive) and anything used in the last ten minutes.
 */
export async function pruneArchives(cacheDir: string, name: string, keep = KEEP_ARCHIVES, now = Date.now()): Promise<string[]> {
  const dir = path.join(cacheDir, 'archives');
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{32}\\.tar$`);
  const archives = await Promise.all(
    (await readdir(dir).catch(() => [] as string[]))
      .filter((f) => pattern.test(f))
      .map(async (f) => ({ path: path.join(dir, f), usedMs: (await stat(path.join(dir, f)).catch(() => undefined))?.mtimeMs ?? now })),
  );
  const removable = staleCacheItems(archives, keep, now);
  for (const a of removable) await rm(a.path, { force: true });
  if (removable.length > 0) debug('pruned %d old %s archive(s)', removable.length, name);
  return removable.map((a) => a.path);
}
