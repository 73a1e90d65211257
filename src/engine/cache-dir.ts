import os from 'node:os';
import path from 'node:path';

/**
 * `$DRILL_CACHE_DIR`, else `~/.cache/drill`: what drill keeps between runs (built binaries, images,
 * PostgreSQL templates, forensic keys, run ledgers, clusters), each in a directory of its own here.
 */
export function drillCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRILL_CACHE_DIR || path.join(os.homedir(), '.cache', 'drill');
}
