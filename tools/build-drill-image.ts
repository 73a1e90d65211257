// Writes the drill image (the Dockerfile's contents, built from this machine's files without a
// container engine: src/targets/images/drill-image.ts) as a docker-archive tarball that
// `ctr images import`, `docker load` and `kind load image-archive` read.
//   npm run image:build -- [--out drill-image.tar] [--tag drill.local/drill:0.1.0]
import { copyFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildDrillImage } from '../src/targets/images/drill-image.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, tag: { type: 'string' } } });
const t0 = Date.now();
const image = await buildDrillImage(values.tag ? { tag: values.tag } : {});
if (values.out) await copyFile(image.path, values.out);
for (const layer of image.layers) console.log(`layer ${layer.diffId.slice(7, 19)} ${(layer.size / 1e6).toFixed(1)} MB${layer.cached ? ' (cached)' : ''}  ${layer.description}`);
console.log(`${image.tag}: ${values.out ?? image.path} (${(image.size / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
