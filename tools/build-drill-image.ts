// Writes the drill image (the Dockerfile's contents, built from this machine's files without a
// container engine: src/targets/images/drill-image.ts) as a docker-archive tarball that
// `ctr images import`, `docker load` and `kind load image-archive` read.
//   npm run image:build -- [--out drill-image.tar] [--tag drill.local/drill:0.1.0]
// Exit 2 for bad input (an option, a tag), 3 when this machine lacks what goes into the image.
import { statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { asDrillError } from '../src/engine/errors.js';
import { buildDrillImage } from '../src/targets/images/drill-image.js';

async function main(): Promise<number> {
  let values: { out?: string; tag?: string };
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' }, tag: { type: 'string' } } }));
  } catch (error) {
    console.error(`${(error as Error).message}; usage: npm run image:build -- [--out FILE] [--tag REGISTRY/NAME:TAG]`);
    return 2;
  }
  // Checked before the build (a minute on a cold cache), not found out by copyFile's stack trace after it.
  if (values.out !== undefined) {
    const dir = path.dirname(path.resolve(values.out));
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      console.error(`--out ${values.out}: the directory ${dir} does not exist; create it (mkdir -p ${dir}) or give --out a file in an existing directory`);
      return 2;
    }
    if (statSync(values.out, { throwIfNoEntry: false })?.isDirectory()) {
      console.error(`--out ${values.out} is a directory; give the archive's file name (e.g. --out ${path.join(values.out, 'drill-image.tar')})`);
      return 2;
    }
  }
  const t0 = Date.now();
  try {
    const image = await buildDrillImage(values.tag ? { tag: values.tag } : {});
    if (values.out) await copyFile(image.path, values.out);
    for (const layer of image.layers) console.log(`layer ${layer.diffId.slice(7, 19)} ${(layer.size / 1e6).toFixed(1)} MB${layer.cached ? ' (cached)' : ''}  ${layer.description}`);
    console.log(`${image.tag}: ${values.out ?? image.path} (${(image.size / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    const e = asDrillError(error);
    if (e.kind !== 'input' && e.kind !== 'environment') throw error;
    console.error(`${e.code}: ${e.message}`);
    return e.kind === 'input' ? 2 : 3;
  }
}

process.exitCode = await main();
