import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ForensicRecheck, ForensicsRecord } from '../../engine/journal-types.js';
import { hashFile } from '../../report/evidence-manifest.js';
import { hashFileWithIdentity } from '../../report/file-identity.js';

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A file's sha256, streamed (a memory dump is up to 256 MiB: never read whole into memory). */
export async function sha256File(file: string): Promise<string> {
  return (await hashFile(file)).sha256;
}

/**
 * Every preserved file hashed again as it is now (absent `sha256`: the file is gone or
 * unreadable), with its size and, when it held still, its identity (for the evidence manifest).
 */
export async function rehashForensics(runDir: string, record: ForensicsRecord): Promise<ForensicRecheck[]> {
  return Promise.all(
    record.artifacts.map(async ({ path: file }) => {
      try {
        const { sha256: digest, size, identity } = await hashFileWithIdentity(path.join(runDir, file));
        return { path: file, sha256: digest, size, ...(identity ? { identity } : {}) };
      } catch {
        return { path: file };
      }
    }),
  );
}
