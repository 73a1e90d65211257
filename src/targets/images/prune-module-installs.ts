import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { staleCacheItems } from './prune-archives.js';

const debug = createDebug('drill:images');

/** How many production node_modules installs (one per lock file, ~270 MB with its layer) stay cached. */
export const KEEP_MODULE_INSTALLS = 2;
// A temp install older than this is left by a build that was killed (npm ci's own limit is 10 minutes).
const ABANDONED_TEMP_MS = 60 * 60_000;

/**
 * Removes old `<cacheDir>/node-modules/<digest>` installs with the layer tar each one's layer.json
 * names: every change to package-lock.json makes a new install and layer, and only the newest are
 * built again. Keeps the `keep` most recently used (a cache hit touches layer.json) and anything
 * used in the last ten minutes; a `<digest>.tmp-*` install goes only when an hour old.
 */
export async function pruneModuleInstalls(cacheDir: string, keep = KEEP_MODULE_INSTALLS, now = Date.now()): Promise<string[]> {
  const dir = path.join(cacheDir, 'node-modules');
  const names = await readdir(dir).catch(() => [] as string[]);
  const usedMs = async (p: string) => (await stat(p).catch(() => undefined))?.mtimeMs;
  const installs = await Promise.all(
    names
      .filter((n) => /^[0-9a-f]{32}$/.test(n))
      .map(async (n) => {
        const installDir = path.join(dir, n);
        return { path: installDir, usedMs: (await usedMs(path.join(installDir, 'layer.json'))) ?? (await usedMs(installDir)) ?? now };
      }),
  );
  const temps = await Promise.all(names.filter((n) => /^[0-9a-f]{32}\.tmp-/.test(n)).map(async (n) => ({ path: path.join(dir, n), usedMs: (await usedMs(path.join(dir, n))) ?? now })));
  const removable = [...staleCacheItems(installs, keep, now), ...staleCacheItems(temps, 0, now, ABANDONED_TEMP_MS)];
  for (const install of removable) {
    const key = await readFile(path.join(install.path, 'layer.json'), 'utf8')
      .then((text) => (JSON.parse(text) as { key?: unknown }).key)
      .catch(() => undefined);
    // layer.json first: a build that finds it no more installs again rather than trust a half-removed tree.
    await rm(path.join(install.path, 'layer.json'), { force: true });
    if (typeof key === 'string' && /^[0-9a-f]+$/.test(key)) {
      for (const ext of ['json', 'tar']) await rm(path.join(cacheDir, 'layers', `${key}.${ext}`), { force: true });
    }
    await rm(install.path, { recursive: true, force: true });
  }
  if (removable.length > 0) debug('pruned %d old node_modules install(s)', removable.length);
  return removable.map((i) => i.path);
}
