import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResourceLedger } from './resource-ledger.js';

/**
 * A new temp directory `<tmpdir>/<prefix><random>` (mode 0700), in the ledger before it exists:
 * mkdtemp would create it first, and a kill -9 between the two would leave a directory no reaper
 * knows of. The name is chosen here instead (8 random bytes, and not one that exists: the ledger
 * must never name another program's directory), recorded, then created; mkdir fails rather than
 * take over a directory that appeared in between. `prefix` must start with `drill-`, the name the
 * temp-dir reaper requires.
 */
export function createRecordedTempDir(ledger: Pick<ResourceLedger, 'record'>, prefix: string, options: TempDirNameOptions = {}): string {
  const dir = unusedTempDirName(prefix, options);
  ledger.record({ kind: 'temp-dir', path: dir });
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

export interface TempDirNameOptions {
  /** Where the directory goes (default: os.tmpdir()). */
  parent?: string;
  /**
   * Random bytes in the name (default 8). Fewer where a unix socket path inside must stay under
   * 108 bytes (containerd, the control plane): 4 bytes still leave 2^32 names per prefix.
   */
  randomBytes?: number;
}

/**
 * A path `<parent>/<prefix><random hex>` that does not exist yet, for callers that record their
 * own ledger entry (not `temp-dir`) before creating it.
 */
export function unusedTempDirName(prefix: string, options: TempDirNameOptions = {}): string {
  const parent = options.parent ?? os.tmpdir();
  let dir: string;
  do dir = path.join(parent, `${prefix}${randomBytes(options.randomBytes ?? 8).toString('hex')}`);
  while (existsSync(dir));
  return dir;
}
