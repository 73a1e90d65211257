/**
 * `npm run bench:images [-- --runs 3 --out bench/results/images.json]`
 * Image build time with a cold and a warm cache, and import time into a private containerd,
 * each beside a plain copy of the same archive on the same disk (the floor for writing it).
 * Needs root and containerd (`npm run setup:all`). Every sample is reported, with the median.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ResourceLedger } from '../src/engine/resource-ledger.js';
import { reapResources } from '../src/engine/reaper.js';
import { PrivateContainerd } from '../src/targets/containerd/private-containerd.js';
import { buildPauseImage } from '../src/targets/images/pause-image.js';
import { buildServiceImages } from '../src/targets/images/service-images.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/images.json' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: npm run bench:images -- --runs 3 --out bench/results/images.json');
  process.exit(2);
}

const versions = ['4.4.0', '4.5.0-crashloop', '4.5.1-slow'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-bench-images-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
const samples: Record<string, number[]> = {};
const record = (name: string, ms: number) => (samples[name] ??= []).push(ms);
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await work();
  record(name, Math.round(performance.now() - t0));
  return result;
}

let archiveBytes = 0;
let containerdVersion = '';
try {
  for (let run = 0; run < runs; run++) {
    console.error(`bench: images, run ${run + 1}/${runs}…`);
    const dir = path.join(tmp, `run-${run}`);
    const cacheDir = path.join(dir, 'cache');
    mkdirSync(dir, { recursive: true });
    const bundle = path.join(dir, 'service.mjs');
    writeFileSync(bundle, `console.log(process.env.VERSION, ${run});\n`);

    // Cold: nothing cached (the pause binary is compiled, the node runtime layer written).
    const cold = await timed('serviceBuildColdMs', () => buildServiceImages({ bundle, versions, cacheDir }));
    await timed('pauseBuildColdMs', () => buildPauseImage({ cacheDir }));
    // Warm: the same input again (digests of the inputs are still taken).
    await timed('serviceBuildWarmMs', () => buildServiceImages({ bundle, versions, cacheDir }));
    // A new service build: runtime layer from the cache, app layer and archive written.
    writeFileSync(bundle, `console.log(process.env.VERSION, ${run}, 'next');\n`);
    await timed('serviceBuildNewBundleMs', () => buildServiceImages({ bundle, versions, cacheDir }));
    archiveBytes = statSync(cold.path).size;
    await timed('archiveCopyMs', async () => copyFileSync(cold.path, path.join(dir, 'copy.tar')));

    const pause = await buildPauseImage({ cacheDir });
    const containerd = await timed('containerdStartMs', () => PrivateContainerd.start({ ledger: new ResourceLedger(ledgerFile) }));
    containerdVersion = containerd.versions.containerd;
    try {
      await timed('serviceImportMs', () => containerd.importImages(cold.path));
      await timed('pauseImportMs', () => containerd.importImages(pause.path));
    } finally {
      await timed('containerdDisposeMs', () => containerd.dispose());
    }
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await reapResources(ledgerFile);
  rmSync(tmp, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!; // the upper middle: never the better of two
const result = {
  when: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}`, containerd: containerdVersion },
  images: { versions: versions.length, archiveMb: Math.round(archiveBytes / 2 ** 20) },
  medianMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
  samplesMs: samples,
};
mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(values.out);
