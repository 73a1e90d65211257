import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';
import { sharedLibraryEntries } from './host-program.js';
import { hostTreeEntries } from './host-tree.js';
import { writeAtomically } from './image-cache.js';
import { layerSpec, type LayerEntry } from './layer-spec.js';
import { buildLayer, cachedLayer, type BuiltLayer } from './layer-store.js';
import { pruneModuleInstalls } from './prune-module-installs.js';

const debug = createDebug('drill:images');

export interface ProductionModulesOptions {
  /** The package whose package.json and package-lock.json say what to install. */
  packageRoot: string;
  /** Where node_modules goes in the image (e.g. /opt/drill/node_modules). */
  at: string;
  /** Directories under node_modules the image's user writes (vite's caches), owned by it. */
  writable: { names: string[]; uid: number; gid: number };
  cacheDir: string;
}

/**
 * The package's production dependencies as a layer, with the libraries their native addons load:
 * what `npm ci --omit=dev` installs from its lock file (the Dockerfile's step), installed once into
 * `<cacheDir>/node-modules/<digest>` and kept there by the digest of package.json and
 * package-lock.json. Hashing its 20 000 files is the
 * slow part of a build, so the layer's key is remembered beside the install: the next build with
 * the same lock file takes the layer from the cache without reading node_modules at all.
 */
export async function productionModulesLayer(options: ProductionModulesOptions): Promise<BuiltLayer> {
  const manifests = await Promise.all(['package.json', 'package-lock.json'].map((f) => readFile(path.join(options.packageRoot, f))));
  const digest = createHash('sha256')
    .update(JSON.stringify({ at: options.at, writable: options.writable }))
    .update(manifests[0]!)
    .update(manifests[1]!)
    .digest('hex')
    .slice(0, 32);
  const installDir = path.join(options.cacheDir, 'node-modules', digest);
  const keyFile = path.join(installDir, 'layer.json');
  const description = `npm ci --omit=dev (${digest.slice(0, 12)})`;
  if (existsSync(keyFile)) {
    const { key } = JSON.parse(await readFile(keyFile, 'utf8')) as { key: string };
    const layer = await cachedLayer(key, description, options.cacheDir);
    if (layer) {
      // Marks the install used, for pruning by age.
      const now = new Date();
      await utimes(keyFile, now, now).catch(() => undefined);
      await pruneModuleInstalls(options.cacheDir);
      return layer;
    }
  }
  if (!existsSync(path.join(installDir, 'node_modules', '.package-lock.json'))) await installProductionModules(options.packageRoot, installDir);
  const entries: LayerEntry[] = await hostTreeEntries(path.join(installDir, 'node_modules'), { at: options.at, exclude: (p) => options.writable.names.includes(p) });
  // Native addons (rolldown's, resvg's) load libraries node itself does not (librt).
  const addons = (await readdir(path.join(installDir, 'node_modules'), { recursive: true })).filter((f) => f.endsWith('.node')).sort();
  entries.push(...(await sharedLibraryEntries(addons.map((f) => path.join(installDir, 'node_modules', f)))));
  for (const name of options.writable.names) {
    entries.push({ type: 'directory', path: path.posix.join(options.at, name), mode: 0o755, uid: options.writable.uid, gid: options.writable.gid });
  }
  const spec = layerSpec(description, entries);
  const layer = await buildLayer(spec, options.cacheDir);
  await writeAtomically(keyFile, (temp) => writeFile(temp, JSON.stringify({ key: spec.key })));
  await pruneModuleInstalls(options.cacheDir);
  return layer;
}

/**
 * `npm ci --omit=dev` of `packageRoot`'s manifests into `installDir`, which appears complete or not
 * at all: the install runs in a sibling temp directory renamed into place, because the cache is
 * shared and two builds at once (two drills, a test and `npm run image:build`) must not install
 * over each other or hash a half-installed tree. When another build renamed its install first,
 * that one is used and this one removed (same lock file, same contents).
 */
export async function installProductionModules(packageRoot: string, installDir: string): Promise<void> {
  const t0 = Date.now();
  // An install left incomplete by a build before this scheme (it ran npm ci in place).
  if (existsSync(installDir) && !existsSync(path.join(installDir, 'node_modules', '.package-lock.json'))) await rm(installDir, { recursive: true, force: true });
  const temp = `${installDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(temp, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) await copyFile(path.join(packageRoot, f), path.join(temp, f));
    // No install scripts: nothing of drill's runtime dependencies needs one (esbuild's binary comes
    // as its own optional package), and a build must not run code from the registry as root.
    await runCommand('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: temp, timeoutMs: 600_000 }).catch((error: unknown) => {
      throw new EnvironmentError('NPM_CI_FAILED', `npm ci --omit=dev for the drill image failed (${String(error)}); check that npm can reach its registry or cache, then build again`, { cause: error });
    });
    try {
      await rename(temp, installDir);
      debug('production node_modules installed in %s in %d ms', installDir, Date.now() - t0);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
      debug('another build installed %s first; using it', installDir);
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
