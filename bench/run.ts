/**
 * `npm run bench [-- --sizes 100,1000 --lost-window 30s --out bench/results/latest.json]`
 * Restore procedures per database size against the plain-copy floor, and measured RPO against
 * ground truth. Results are JSON; compare ratios from one run, not absolute times across machines.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/scenario/duration.js';
import { measureProcedures, type ProcedureResult } from './procedures.js';
import { rpoGroundTruth } from './rpo-ground-truth.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    'lost-window': { type: 'string', default: '30s' },
    out: { type: 'string', default: 'bench/results/latest.json' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const lostWindow = parseDuration(values['lost-window']);
if (sizes.some((s) => !Number.isFinite(s) || s <= 0) || lostWindow === undefined) {
  console.error('usage: npm run bench -- --sizes 100,1000 --lost-window 30s --out bench/results/latest.json');
  process.exit(2);
}

const procedures: Record<string, ProcedureResult> = {};
for (const size of sizes) {
  console.error(`bench: restore procedures on ${size} MB…`);
  procedures[`${size}MB`] = await measureProcedures(size);
  console.error(JSON.stringify(procedures[`${size}MB`]));
}
console.error(`bench: RPO against ground truth (PITR ${values['lost-window']} before the fault)…`);
const rpo = await rpoGroundTruth(lostWindow);
console.error(JSON.stringify(rpo));

const result = {
  when: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` },
  procedures,
  rpoGroundTruth: rpo,
};
mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(values.out);
process.exitCode = rpo.withinOneInterval ? 0 : 1;
