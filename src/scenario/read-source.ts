import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/**
 * Reads a scenario file as bytes so the hash is of exactly what is on disk (evidence bundles cite
 * it), and turns file-system errors into sentences a user can act on.
 *
 * Only regular files of at most MAX_SOURCE_BYTES are read: `/dev/zero` would otherwise be read
 * until memory runs out, and a FIFO would block the open until someone writes to it.
 */
export type SourceResult = { ok: true; source: string; sha256: string } | { ok: false; message: string };

/** The largest scenario file read. The shipped ones are a few kB; 1 MiB leaves room for long descriptions. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

export async function readSource(absolute: string, limit = MAX_SOURCE_BYTES): Promise<SourceResult> {
  const read = await readRegularFile(absolute, limit);
  if (!read.ok) {
    if (read.missing) return { ok: false, message: `file not found (looked for ${absolute}; working directory ${process.cwd()})` };
    const hint = read.directory ? '; give a scenario .yaml file (`npx drill list` shows them)' : '';
    return { ok: false, message: read.message + hint };
  }
  const sha256 = createHash('sha256').update(read.bytes).digest('hex');
  // A BOM is invisible in editors; dropping it keeps column numbers as the user sees them.
  const source = read.bytes.toString('utf8').replace(/^\uFEFF/, '');
  return { ok: true, source, sha256 };
}

export type BytesResult = { ok: true; bytes: Buffer } | { ok: false; message: string; directory?: boolean; missing?: boolean };

/**
 * The bytes of a regular file of at most `limit` bytes, or a sentence saying why not. Also used
 * for the other files a scenario names (manifests, kubeconfig), which have the same hazards.
 */
export async function readRegularFile(absolute: string, limit: number): Promise<BytesResult> {
  try {
    // stat first: it answers for a FIFO or a device without opening (and so without blocking on) it.
    const before = await stat(absolute);
    if (!before.isFile()) return { ok: false, message: notRegular(before), directory: before.isDirectory() };
    if (before.size > limit) return { ok: false, message: tooLarge(before.size, limit) };
    // O_NONBLOCK: should the path have been swapped for a FIFO since the stat, the open still returns.
    const handle = await open(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const opened = await handle.stat();
      if (!opened.isFile()) return { ok: false, message: notRegular(opened) };
      // Read at most one byte past the limit: a file that grows while being read is still bounded.
      const buffer = Buffer.alloc(Math.min(opened.size, limit) + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length === buffer.length) break;
      }
      if (length > limit) return { ok: false, message: tooLarge(length, limit) };
      return { ok: true, bytes: buffer.subarray(0, length) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, message: explain(error, absolute), ...(missing ? { missing } : {}) };
  }
}

function notRegular(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'is a directory, not a file';
  const kind = stats.isFIFO() ? 'a named pipe' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : stats.isSocket() ? 'a socket' : 'not a regular file';
  return `is ${kind}, not a regular file; give a file saved on disk`;
}

function tooLarge(size: number, limit: number): string {
  return `is ${formatBytes(size)}${size > limit ? ' or more' : ''}, larger than the ${formatBytes(limit)} a drill reads; is this the right file?`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.floor((n / (1024 * 1024)) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.floor((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}

function explain(error: unknown, absolute: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return `does not exist: a part of ${absolute} before the file name is not a directory`;
    case 'ENAMETOOLONG':
      return 'the path is too long for this file system';
    case 'ELOOP':
      return 'the path is a loop of symbolic links';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read the file: permission denied';
    default:
      return `cannot read the file: ${(error as Error).message ?? String(error)}`;
  }
}
