import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import createDebug from 'debug';
import { withCompilerEnvironment } from '../targets/process/compiler-environment.js';
import { build, transform, version as esbuildVersion } from 'esbuild';

const debug = createDebug('drill:bundle');

/** Bumped when what is built changes (options, plugin), so an older build is never taken for a newer one. */
const FORMAT = 1;
/** Builds older than this, other than the current one, are removed when a new one is made. */
const PRUNE_AFTER_MS = 24 * 3600_000;
/** At most this many builds besides the current one are kept. */
const KEEP_BUILDS = 8;
/** A build is written here first (then renamed to its key), so a half-written one is never imported. */
const SCRATCH_PREFIX = 'building-';

interface BuildRecord {
  format: number;
  esbuild: string;
  node: string;
  /** The build's directory under the cache (named by the digest of its inputs). */
  key: string;
  /** Every source file that went into it, as it was then: package-relative path, size, mtime in ns. */
  inputs: Array<{ path: string; size: number; mtimeNs: string }>;
}

/**
 * The harness a drill process imports (src/engine/drill-entry.ts), prebuilt into one ES module
 * with esbuild: the drill process then loads one file instead of ~500 modules through vitest's
 * transform, about half a second less per drill. Packages stay external (loaded from
 * node_modules as before) and dynamic imports stay separate chunks, so what a scenario does not
 * use is still never loaded. Every module keeps its own `import.meta.url` (its path in the
 * checkout), so the files it finds beside itself (manifests, tools, the service's sources) are
 * found as from source.
 *
 * Built under node_modules/.cache/drill/harness/, and reused while every input file has the size
 * and mtime it had: a changed source file makes a new build (~1 s), so a run never uses stale code.
 * Never in the way: when it cannot be built or written (read-only install), the drill process
 * imports the harness from source, as it always could. `DRILL_HARNESS_FROM_SOURCE=1` does that
 * on purpose (working on the harness under a debugger).
 */
export async function prepareHarnessBundle(packageRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.DRILL_HARNESS_FROM_SOURCE === '1') return undefined;
  const cache = path.join(packageRoot, 'node_modules', '.cache', 'drill', 'harness');
  try {
    const current = await currentBuild(packageRoot, cache);
    if (current) return current;
    return await buildHarness(packageRoot, cache);
  } catch (error) {
    debug('no harness bundle, the drill imports the harness from source: %s', error instanceof Error ? error.message : String(error));
    return undefined;
  }
}

function entryOf(cache: string, key: string): string {
  return path.join(cache, key, 'drill-entry.js');
}

/** The recorded build, if every one of its inputs is still as it was. */
async function currentBuild(packageRoot: string, cache: string): Promise<string | undefined> {
  const record = await readFile(path.join(cache, 'current.json'), 'utf8')
    .then((text) => JSON.parse(text) as BuildRecord)
    .catch(() => undefined);
  if (!record || record.format !== FORMAT || record.esbuild !== esbuildVersion || record.node !== process.version) return undefined;
  const entry = entryOf(cache, record.key);
  if (!existsSync(entry)) return undefined;
  const now = await Promise.all(record.inputs.map((input) => inputFact(packageRoot, input.path).catch(() => undefined)));
  const changed = record.inputs.find((input, i) => now[i]?.size !== input.size || now[i]?.mtimeNs !== input.mtimeNs);
  if (changed) {
    debug('harness bundle %s is stale: %s changed', record.key, changed.path);
    return undefined;
  }
  await touch(path.join(cache, record.key));
  return entry;
}

async function inputFact(packageRoot: string, relative: string): Promise<{ path: string; size: number; mtimeNs: string }> {
  const s = await stat(path.join(packageRoot, relative), { bigint: true });
  return { path: relative, size: Number(s.size), mtimeNs: String(s.mtimeNs) };
}

/** Size and mtime of every TypeScript file under src/ and sut/ (what a build can read), by package-relative path. */
async function sourceFacts(packageRoot: string): Promise<Map<string, { path: string; size: number; mtimeNs: string }>> {
  const facts = new Map<string, { path: string; size: number; mtimeNs: string }>();
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(packageRoot, relative), { withFileTypes: true }).catch(() => []);
    await Promise.all(
      entries.map(async (entry) => {
        const child = path.join(relative, entry.name);
        if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist') await walk(child);
        else if (entry.isFile() && entry.name.endsWith('.ts')) facts.set(child, await inputFact(packageRoot, child));
      }),
    );
  };
  await Promise.all(['src', 'sut'].map(walk));
  return facts;
}

async function buildHarness(packageRoot: string, cache: string): Promise<string> {
  const started = performance.now();
  await mkdir(cache, { recursive: true });
  const scratch = path.join(cache, `${SCRATCH_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const before = await sourceFacts(packageRoot);
    const result = await withCompilerEnvironment(() => build({
      // Metafile paths are relative to this, whatever directory `drill run` was started in.
      absWorkingDir: packageRoot,
      entryPoints: [path.join(packageRoot, 'src', 'engine', 'drill-entry.ts')],
      outdir: scratch,
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
      plugins: [keepModuleUrls(packageRoot)],
    }));
    // Facts as they were before the build read the files: a file edited while it built shows as
    // changed next time (taken after, the build would carry the old text under the new mtime).
    const inputs = await Promise.all(
      Object.keys(result.metafile.inputs).map((input) => {
        const relative = path.relative(packageRoot, path.resolve(packageRoot, input));
        return before.get(relative) ?? inputFact(packageRoot, relative);
      }),
    );
    const key = createHash('sha256')
      .update(JSON.stringify({ format: FORMAT, esbuild: esbuildVersion, node: process.version, inputs }))
      .digest('hex')
      .slice(0, 16);
    const target = path.join(cache, key);
    if (existsSync(target)) {
      await rm(scratch, { recursive: true, force: true });
      await touch(target);
    } else await rename(scratch, target).catch(async (error: unknown) => {
      // Another drill run built the same inputs at the same moment: theirs is as good.
      if (!existsSync(target)) throw error;
      await rm(scratch, { recursive: true, force: true });
    });
    const record: BuildRecord = { format: FORMAT, esbuild: esbuildVersion, node: process.version, key, inputs };
    const pointer = path.join(cache, `current.json.${process.pid}`);
    await writeFile(pointer, `${JSON.stringify(record)}\n`);
    await rename(pointer, path.join(cache, 'current.json'));
    debug('built the harness bundle %s from %d files in %d ms', key, inputs.length, Math.round(performance.now() - started));
    await pruneOldBuilds(cache, key);
    return entryOf(cache, key);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * esbuild gives every bundled module the bundle's `import.meta.url`; the harness finds files beside
 * its modules by it. Each module of the checkout is compiled with its own URL defined in its place
 * (as an expression, so a string that merely says `import.meta.url` is left as it is).
 */
function keepModuleUrls(packageRoot: string) {
  // esbuild's filters are Go regular expressions (no lookahead): node_modules is left out below.
  const ownSource = new RegExp(`^${escapeRegExp(packageRoot)}/.*\\.ts$`);
  const dependencies = `${packageRoot}/node_modules/`;
  return {
    name: 'keep-module-urls',
    setup(b: { onLoad: (options: { filter: RegExp }, callback: (args: { path: string }) => Promise<{ contents: string; loader: 'js' } | undefined>) => void }) {
      b.onLoad({ filter: ownSource }, async (args) => {
        if (args.path.startsWith(dependencies)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const { code } = await transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: args.path,
          define: { 'import.meta.url': JSON.stringify(pathToFileURL(args.path).href) },
        });
        return { contents: code, loader: 'js' };
      });
    },
  };
}

/** A build in use again: its age, what pruning goes by, starts now (best effort: a read-only cache is still usable). */
async function touch(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now).catch(() => undefined);
}

async function pruneOldBuilds(cache: string, keep: string): Promise<void> {
  const builds = [];
  for (const entry of await readdir(cache, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === keep) continue;
    const dir = path.join(cache, entry.name);
    const mtimeMs = (await stat(dir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    // Another drill run's build in progress: not a build to count, gone only when long abandoned (kill -9).
    if (entry.name.startsWith(SCRATCH_PREFIX)) {
      if (Date.now() - mtimeMs > PRUNE_AFTER_MS) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      continue;
    }
    builds.push({ dir, mtimeMs });
  }
  builds.sort((a, b) => b.mtimeMs - a.mtimeMs);
  // A drill run started from an older build may still start drills from it (a game day lasts
  // hours): a build goes after a day, or once KEEP_BUILDS newer ones exist (the cache stays small).
  for (const [i, build] of builds.entries()) {
    if (i >= KEEP_BUILDS || Date.now() - build.mtimeMs > PRUNE_AFTER_MS) await rm(build.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
