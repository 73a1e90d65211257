import { createHash } from 'node:crypto';
import { InputError } from '../../engine/errors.js';

/**
 * What goes into one image layer, described by content digests before anything is written: the
 * description's hash is the layer's cache key, and writing it (layer-store.ts) gives the same
 * bytes every time, because everything the tar records comes from this description.
 */

/** Every entry's mtime: a fixed instant, so that when a file was copied never changes a digest. */
export const LAYER_MTIME = 0;

export type LayerEntry =
  | { type: 'directory'; path: string; mode: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'file'; path: string; mode: number; uid?: number; gid?: number; source: FileSource };

/** A file's bytes: inline, or a host file whose digest was taken when the spec was made. */
export type FileSource = { kind: 'bytes'; data: Buffer } | { kind: 'file'; path: string; size: number; sha256: string };

export interface NormalizedEntry {
  type: LayerEntry['type'];
  /** Relative, no leading or trailing slash. */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  target?: string;
  source?: FileSource;
  /** Content digest (hex) of a file. */
  sha256?: string;
  size?: number;
}

export interface LayerSpec {
  /** For history and debug output (e.g. "node runtime v20.20.2"). */
  description: string;
  entries: NormalizedEntry[];
  /** sha256 (hex) of the normalized description: the cache key. */
  key: string;
}

// Bumped whenever the bytes written for the same description change (tar header layout, order).
const FORMAT = 'drill-layer/1';

export function layerSpec(description: string, entries: LayerEntry[]): LayerSpec {
  const byPath = new Map<string, NormalizedEntry>();
  for (const entry of entries) {
    const normalized = normalize(entry);
    const existing = byPath.get(normalized.path);
    if (existing && JSON.stringify(keyOf(existing)) !== JSON.stringify(keyOf(normalized))) {
      throw new InputError('LAYER_PATH_CONFLICT', `layer "${description}": /${normalized.path} is given twice with different content; give it once`);
    }
    byPath.set(normalized.path, normalized);
  }
  // Parent directories a runtime would otherwise create with whatever mode it likes.
  for (const path of [...byPath.keys()]) {
    for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
      const existing = byPath.get(parent);
      if (existing && existing.type !== 'directory') {
        throw new InputError('LAYER_PATH_CONFLICT', `layer "${description}": /${parent} is a ${existing.type} but /${path} is inside it`);
      }
      if (!existing) byPath.set(parent, { type: 'directory', path: parent, mode: 0o755, uid: 0, gid: 0 });
    }
  }
  // Byte order of the path: a parent sorts before everything in it, and the order never depends on locale.
  const sorted = [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const key = createHash('sha256')
    .update(JSON.stringify({ format: FORMAT, mtime: LAYER_MTIME, entries: sorted.map(keyOf) }))
    .digest('hex');
  return { description, entries: sorted, key };
}

function normalize(entry: LayerEntry): NormalizedEntry {
  const path = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (path === '' || path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new InputError('LAYER_BAD_PATH', `"${entry.path}" is not a plain absolute path inside the image; use a path like /usr/bin/node`);
  }
  switch (entry.type) {
    case 'directory':
      return { type: 'directory', path, mode: entry.mode, uid: entry.uid ?? 0, gid: entry.gid ?? 0 };
    case 'symlink':
      return { type: 'symlink', path, mode: 0o777, uid: 0, gid: 0, target: entry.target };
    case 'file': {
      const { source } = entry;
      const sha256 = source.kind === 'bytes' ? createHash('sha256').update(source.data).digest('hex') : source.sha256;
      const size = source.kind === 'bytes' ? source.data.length : source.size;
      return { type: 'file', path, mode: entry.mode, uid: entry.uid ?? 0, gid: entry.gid ?? 0, source, sha256, size };
    }
  }
}

/** What of an entry ends up in the tar (the host path a file was read from does not). */
function keyOf(e: NormalizedEntry): unknown[] {
  return [e.type, e.path, e.mode & 0o7777, e.uid, e.gid, e.target ?? null, e.sha256 ?? null, e.size ?? null];
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
