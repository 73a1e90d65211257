import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { buildTruststreamBundle } from '../../../sut/truststream/bundle.js';
import { withCompilerEnvironment } from '../process/compiler-environment.js';

const SUT_DIR = fileURLToPath(new URL('../../../sut/truststream/', import.meta.url));

/** How to run the service: a program and the arguments before the service's own. */
export interface ServiceProgram {
  file: string;
  args: string[];
  /** What it runs, for messages: the bundle's path or "source (tsx)". */
  describe: string;
}

/**
 * Where the service comes from:
 * - `bundle` (default): the single-file bundle under plain node, as a container runs it. Built
 *   into `dir` for this launch (about a second), so a run never uses a stale build; `file`
 *   names a prebuilt bundle instead (e.g. `npm run build:sut`'s).
 * - `source`: sut/truststream/src through tsx, for working on the service (DRILL_SUT_FROM_SOURCE=1).
 */
export type ServiceSource = { kind: 'bundle'; file?: string } | { kind: 'source' };

export function defaultServiceSource(env: NodeJS.ProcessEnv = process.env): ServiceSource {
  return env.DRILL_SUT_FROM_SOURCE === '1' ? { kind: 'source' } : { kind: 'bundle' };
}

export async function serviceProgram(source: ServiceSource, dir: string): Promise<ServiceProgram> {
  if (source.kind === 'source') {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { file: process.execPath, args: ['--import', tsx, path.join(SUT_DIR, 'src', 'main.ts')], describe: 'source (tsx)' };
  }
  // The drill process's environment holds the scenario's ${VAR} values: not for esbuild's service.
  const file = source.file ?? (await withCompilerEnvironment(() => buildTruststreamBundle(path.join(dir, 'truststream.mjs')))).file;
  return { file: process.execPath, args: [file], describe: file };
}
