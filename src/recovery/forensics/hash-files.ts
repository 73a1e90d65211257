import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ForensicRecheck, ForensicsRecord } from '../../engine/journal-types.js';

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Every preserved file hashed again as it is now (absent `sha256`: the file is gone or unreadable). */
export async function rehashForensics(runDir: string, record: ForensicsRecord): Promise<ForensicRecheck[]> {
  return Promise.all(
    record.artifacts.map(async ({ path: file }) => {
      try {
        return { path: file, sha256: sha256(await readFile(path.join(runDir, file))) };
      } catch {
        return { path: file };
      }
    }),
  );
}
