import { existsSync } from 'node:fs';
import { rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { imageConfigJson, sha256Hex, checkImageTag, type ContainerSettings } from './image-config.js';
import { writeAtomically } from './image-cache.js';
import { LAYER_MTIME } from './layer-spec.js';
import { KEEP_ARCHIVES, pruneArchives } from './prune-archives.js';
import type { BuiltLayer } from './layer-store.js';
import { TarWriter } from './tar-writer.js';

const debug = createDebug('drill:images');

/** One image of an archive: its tags, its layers (bottom first) and how it runs. */
export interface ImageDefinition {
  tags: string[];
  layers: BuiltLayer[];
  settings: ContainerSettings;
}

export interface ArchivedImage {
  tags: string[];
  /** `sha256:<hex>` of the config: the image ID (`docker images`, `crictl images`). */
  id: string;
  /** The layers' diff ids, bottom first. */
  layers: string[];
}

/** A docker-archive tarball (what `docker save` writes), ready for `ctr images import`. */
export interface ImageArchive {
  path: string;
  size: number;
  images: ArchivedImage[];
  /** Whether the archive came from the cache as a whole. */
  cached: boolean;
}

interface ManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/**
 * Writes several images into one archive in the layout of `docker save` (before Docker 25):
 * `<diff id hex>/layer.tar` per distinct layer (shared layers once), `<config digest hex>.json`
 * per image, and `manifest.json` listing each image's config, tags and layers. containerd's
 * importer (`ctr images import`, `kind load image-archive`) and `docker load` read this layout.
 *
 * The archive's bytes are a function of manifest.json alone (every other member is named by its
 * digest), so it is cached as `<cacheDir>/archives/<name>-<manifest digest>.tar`; the `keep` most
 * recently used archives of `name` stay (pruneArchives).
 */
export async function writeDockerArchive(name: string, images: ImageDefinition[], cacheDir: string, keep = KEEP_ARCHIVES): Promise<ImageArchive> {
  if (images.length === 0) throw new InputError('NO_IMAGES', `archive "${name}": no image to write; give at least one`);
  const seenTags = new Set<string>();
  const layers = new Map<string, BuiltLayer>();
  const configs = new Map<string, Buffer>();
  const manifest: ManifestEntry[] = [];
  const archived: ArchivedImage[] = [];
  for (const image of images) {
    for (const tag of image.tags) {
      checkImageTag(tag);
      if (seenTags.has(tag)) throw new InputError('DUPLICATE_IMAGE_TAG', `archive "${name}": tag ${tag} is given to two images; give each image its own tag`);
      seenTags.add(tag);
    }
    for (const layer of image.layers) layers.set(hexOf(layer.diffId), layer);
    const config = imageConfigJson(
      image.layers.map((l) => ({ diffId: l.diffId, createdBy: `drill: ${l.description}` })),
      image.settings,
    );
    const configHex = sha256Hex(config);
    configs.set(configHex, config);
    manifest.push({ Config: `${configHex}.json`, RepoTags: image.tags, Layers: image.layers.map((l) => `${hexOf(l.diffId)}/layer.tar`) });
    archived.push({ tags: image.tags, id: `sha256:${configHex}`, layers: image.layers.map((l) => l.diffId) });
  }
  const manifestJson = Buffer.from(JSON.stringify(manifest));
  const archivePath = path.join(cacheDir, 'archives', `${name}-${sha256Hex(manifestJson).slice(0, 32)}.tar`);
  if (existsSync(archivePath)) {
    const now = new Date();
    await utimes(archivePath, now, now).catch(() => undefined);
    debug('archive %s from cache', archivePath);
    return { path: archivePath, size: (await stat(archivePath)).size, images: archived, cached: true };
  }
  const t0 = Date.now();
  const written = await writeAtomically(archivePath, async (temp) => {
    const tar = await TarWriter.create(temp);
    const fields = (entry: string, mode: number) => ({ name: entry, mode, uid: 0, gid: 0, mtime: LAYER_MTIME });
    try {
      for (const hex of [...layers.keys()].sort()) {
        const layer = layers.get(hex)!;
        await tar.directory(fields(hex, 0o755));
        // The cached layer's digest was recorded when it was written; re-checked while copying.
        await tar.file(fields(`${hex}/layer.tar`, 0o644), { kind: 'file', path: layer.path, size: layer.size, sha256: hex }).catch(async (error: unknown) => {
          if (!(error instanceof EnvironmentError && error.code === 'IMAGE_SOURCE_CHANGED')) throw error;
          await rm(layer.path, { force: true });
          throw new EnvironmentError('IMAGE_CACHE_DAMAGED', `the cached layer ${layer.path} (${layer.description}) no longer has digest ${layer.diffId}; it was removed: build again`);
        });
      }
      for (const hex of [...configs.keys()].sort()) await tar.file(fields(`${hex}.json`, 0o644), { kind: 'bytes', data: configs.get(hex)! });
      await tar.file(fields('manifest.json', 0o644), { kind: 'bytes', data: manifestJson });
      return await tar.finish();
    } catch (error) {
      await tar.abandon();
      throw error;
    }
  });
  debug('archive %s written in %d ms (%d bytes)', archivePath, Date.now() - t0, written.size);
  await pruneArchives(cacheDir, name, keep);
  return { path: archivePath, size: written.size, images: archived, cached: false };
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}
