import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Where `npm run build:sut` puts the bundle (git-ignored). */
export const DEFAULT_BUNDLE = path.join(HERE, 'dist', 'truststream.mjs');

export interface BundleResult {
  file: string;
  bytes: number;
}

/**
 * Bundles the service into one ES module that plain `node` runs with nothing beside it: no
 * node_modules, no tsx (the container image holds only the node binary and this file).
 * - `pg-native` (pg's optional native driver, not installed) is external: pg requires it only
 *   when `pg.native` is read, which the service never does. Named here rather than left to
 *   esbuild's leniency towards requires inside try blocks. (`pg-cloudflare` resolves to an empty
 *   module for Node.)
 * - pino is used without transports (they load worker files by path, which a bundle does not have).
 * - CommonJS dependencies call `require` for Node's built-ins; an ES module has no `require`, so
 *   the banner makes one with createRequire.
 */
export async function buildTruststreamBundle(outfile: string = DEFAULT_BUNDLE): Promise<BundleResult> {
  mkdirSync(path.dirname(outfile), { recursive: true });
  const result = await build({
    entryPoints: [path.join(HERE, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['pg-native'],
    banner: { js: "import { createRequire as __truststreamCreateRequire } from 'node:module'; const require = __truststreamCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'));
  return { file: outfile, bytes: output?.[1].bytes ?? 0 };
}
