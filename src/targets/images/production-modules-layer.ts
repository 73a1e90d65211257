import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';
import { sharedLibraryEntries } from './host-program.js';
import { hostTreeEntries } from './host-tree.js';
import { writeAtomically } from './image-cache.js';
import { layerSpec, type LayerEntry } from './layer-spec.js';
import { buildLayer, cachedLayer, type BuiltLayer } from './layer-store.js';

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
    if (layer) return layer;
  }
  if (!existsSync(path.join(installDir, 'node_modules', '.package-lock.json'))) await install(options.packageRoot, installDir);
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
  return layer;
}

async function install(packageRoot: string, installDir: string): Promise<void> {
  const t0 = Date.now();
  await rm(installDir, { recursive: true, force: true });
  await mkdir(installDir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) await copyFile(path.join(packageRoot, f), path.join(installDir, f));
  // No install scripts: nothing of drill's runtime dependencies needs one (esbuild's binary comes
  // as its own optional package), and a build must not run code from the registry as root.
  await runCommand('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: installDir, timeoutMs: 600_000 }).catch(
    async (error: unknown) => {
      await rm(installDir, { recursive: true, force: true });
      throw new EnvironmentError('NPM_CI_FAILED', `npm ci --omit=dev for the drill image failed (${String(error)}); check that npm can reach its registry or cache, then build again`, { cause: error });
    },
  );
  debug('production node_modules installed in %s in %d ms', installDir, Date.now() - t0);
}
