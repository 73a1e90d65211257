import path from 'node:path';
import { InputError } from '../engine/errors.js';
import { findRunDirs, generateAllureHtml } from '../report/allure-html.js';
import { verifyEvidence } from '../report/evidence.js';
import { listScenarios } from '../scenario/list.js';
import { loadScenarioFiles } from '../scenario/loader.js';
import { reportsDirError } from './reports-dir.js';

/** `drill validate`: 0 when every file is a valid scenario, 2 with every problem otherwise. */
export async function validateCommand(files: string[]): Promise<number> {
  const loaded = await loadScenarioFiles(files);
  for (const l of loaded) console.log(`ok  ${path.relative(process.cwd(), l.file)}  (${l.scenario.name})`);
  return 0;
}

/** `drill list`: the scenarios in a directory, broken ones with what is wrong. */
export async function listCommand(dir: string): Promise<number> {
  const entries = await listScenarios(dir);
  if (entries.length === 0) console.log(`no scenarios in ${dir}`);
  for (const e of entries) {
    if (e.ok) console.log(`${e.name.padEnd(34)} ${e.severity}  ${e.title}  [${e.tags.join(', ')}]`);
    else console.log(`${path.basename(e.file).padEnd(34)} INVALID\n${e.error.replace(/^/gm, '    ')}`);
  }
  return entries.every((e) => e.ok) ? 0 : 2;
}

/** `drill report [run-dir...]`: Allure HTML of the given runs, or of the latest. */
export async function reportCommand(runDirs: string[], options: { reportsDir: string; output?: string }): Promise<number> {
  const latest = async () =>
    (
      await findRunDirs(options.reportsDir).catch((error: unknown) => {
        throw reportsDirError(error, options.reportsDir);
      })
    ).slice(0, 1);
  const dirs = runDirs.length > 0 ? runDirs : await latest();
  if (dirs.length === 0) {
    throw new InputError('NO_RUNS', `no runs in ${options.reportsDir}: run a drill first (npx drill run <scenario.yaml>)`);
  }
  const out = options.output ?? (dirs.length === 1 ? path.join(dirs[0]!, 'allure-report') : path.join(options.reportsDir, 'allure-report'));
  const index = await generateAllureHtml(dirs.map((d) => path.join(d, 'allure-results')), out);
  console.log(`Allure report: ${index}`);
  return 0;
}

/** `drill verify-evidence <dir>`: 0 intact, 1 tampered or incomplete. */
export async function verifyEvidenceCommand(dir: string): Promise<number> {
  const result = await verifyEvidence(dir);
  for (const w of result.warnings) console.log(`warning: ${w}`);
  if (result.ok) {
    console.log(`evidence intact: ${result.manifest?.entries.length ?? 0} files, chain root ${result.manifest?.root}`);
    return 0;
  }
  for (const p of result.problems) console.log(`TAMPERED/INCOMPLETE: ${p}`);
  return 1;
}

