import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';
import { writeAtomically } from './image-cache.js';
import { sha256Hex } from './image-config.js';

const debug = createDebug('drill:images');

export const PAUSE_SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../tools/pause/pause.c');
const CFLAGS = ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror'];

/**
 * The pod sandbox's init (tools/pause/pause.c), compiled statically with this machine's gcc into
 * `<cacheDir>/pause/<key>/pause`, keyed by the source, the compiler's version and the flags.
 */
export async function pauseBinary(cacheDir: string, options: { cc?: string } = {}): Promise<string> {
  const cc = options.cc ?? process.env.CC ?? 'gcc';
  const source = await readFile(PAUSE_SOURCE);
  const version = await runCommand(cc, ['--version'], { timeoutMs: 30_000 }).catch((error: unknown) => {
    throw new EnvironmentError('PAUSE_BUILD_FAILED', `no C compiler "${cc}" to build the pause binary (${String(error)}); install gcc and the static C library (Debian: apt-get install gcc libc6-dev) or set CC`, { cause: error });
  });
  const key = sha256Hex(JSON.stringify({ source: sha256Hex(source), cc: version.stdout.split('\n')[0], flags: CFLAGS }));
  const binary = path.join(cacheDir, 'pause', key.slice(0, 32), 'pause');
  if (existsSync(binary)) return binary;
  await writeAtomically(binary, async (temp) => {
    await runCommand(cc, [...CFLAGS, '-o', temp, PAUSE_SOURCE], { timeoutMs: 120_000 }).catch((error: unknown) => {
      throw new EnvironmentError('PAUSE_BUILD_FAILED', `compiling ${PAUSE_SOURCE} failed: ${String(error)}; a static build needs libc6-dev (Debian: apt-get install libc6-dev)`, { cause: error });
    });
    // It must run on its own: a container from the pause image has no libc to load.
    const check = await runCommand(temp, ['-v'], { timeoutMs: 10_000 });
    if (!check.stdout.startsWith('drill-pause')) throw new EnvironmentError('PAUSE_BUILD_FAILED', `the pause binary built from ${PAUSE_SOURCE} does not run: ${check.stdout}`);
  });
  debug('pause binary built: %s', binary);
  return binary;
}
