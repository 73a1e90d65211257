import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { LAYER_MTIME, type LayerSpec } from './layer-spec.js';
import { TarWriter } from './tar-writer.js';
import { writeAtomically } from './image-cache.js';

const debug = createDebug('drill:images');

/** A layer written to disk: an uncompressed tar and its digest. */
export interface BuiltLayer {
  /** `sha256:<hex>` of the tar: the image config's rootfs.diff_ids entry. */
  diffId: string;
  size: number;
  /** The tar file in the cache. */
  path: string;
  description: string;
  /** Whether it came from the cache. */
  cached: boolean;
}

/**
 * The layer's tar in `<cacheDir>/layers/<key>.tar` (with `<key>.json` holding its digest),
 * written only when not there yet.
 */
export async function buildLayer(spec: LayerSpec, cacheDir: string): Promise<BuiltLayer> {
  const tarPath = path.join(cacheDir, 'layers', `${spec.key}.tar`);
  const metaPath = path.join(cacheDir, 'layers', `${spec.key}.json`);
  const cached = await cachedLayer(spec.key, spec.description, cacheDir);
  if (cached) return cached;
  const t0 = Date.now();
  const written = await writeAtomically(tarPath, async (temp) => {
    const tar = await TarWriter.create(temp);
    try {
      for (const e of spec.entries) {
        const fields = { name: e.path, mode: e.mode, uid: e.uid, gid: e.gid, mtime: LAYER_MTIME };
        if (e.type === 'directory') await tar.directory(fields);
        else if (e.type === 'symlink') await tar.symlink({ ...fields, linkname: e.target! });
        else {
          const source = e.source!;
          await tar.file(fields, source.kind === 'bytes' ? source : { kind: 'file', path: source.path, size: source.size, sha256: source.sha256 });
        }
      }
      return await tar.finish();
    } catch (error) {
      await tar.abandon();
      throw error;
    }
  });
  const meta = { diffId: `sha256:${written.sha256}`, size: written.size };
  await writeAtomically(metaPath, (temp) => writeFile(temp, JSON.stringify(meta)));
  debug('layer %s written in %d ms: %s, %d bytes', spec.description, Date.now() - t0, meta.diffId, meta.size);
  return { ...meta, path: tarPath, description: spec.description, cached: false };
}

/**
 * The layer of cache key `key` when it is in the cache, without its spec: for a builder that knows
 * the key from an earlier build of the same inputs and would otherwise hash every file again.
 */
export async function cachedLayer(key: string, description: string, cacheDir: string): Promise<BuiltLayer | undefined> {
  const tarPath = path.join(cacheDir, 'layers', `${key}.tar`);
  const metaPath = path.join(cacheDir, 'layers', `${key}.json`);
  if (!existsSync(tarPath) || !existsSync(metaPath)) return undefined;
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { diffId: string; size: number };
  // Marks it used, for pruning by age.
  const now = new Date();
  await utimes(tarPath, now, now).catch(() => undefined);
  debug('layer %s (%s) from cache', description, meta.diffId);
  return { ...meta, path: tarPath, description, cached: true };
}
