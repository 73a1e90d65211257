import path from 'node:path';
import { InputError } from '../engine/errors.js';
import { findRunDirs, generateAllureHtml } from '../report/allure-html.js';
import { verifyEvidence } from '../report/evidence.js';
import { generateEvidenceKeyPair } from '../report/evidence-keygen.js';
import { readVerifyingKey, SIGNING_KEY_ENV } from '../report/evidence-keys.js';
import { readRunbook } from '../runbook/read-runbook.js';
import { listScenarios } from '../scenario/list.js';
import { loadScenarioFiles } from '../scenario/loader.js';
import { maskEnvironmentValues } from '../scenario/mask-environment.js';
import { reportsDirError } from './reports-dir.js';
import { expandScenarioArgs } from './scenario-args.js';

/** `drill validate`: 0 when every file is a valid scenario, 2 with every problem otherwise. */
export async function validateCommand(files: string[], options: { runbook?: string } = {}): Promise<number> {
  const runbook = options.runbook === undefined ? undefined : await readRunbook(options.runbook);
  const loaded = await loadScenarioFiles(await expandScenarioArgs(files), runbook ? { runbook } : {});
  for (const l of loaded) console.log(`ok  ${path.relative(process.cwd(), l.file)}  (${maskEnvironmentValues(l.scenario, l.fromEnvironment).name})`);
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
export async function reportCommand(runDirs: string[], options: { reportsDir: string; output?: string; history?: string }): Promise<number> {
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
  // Never inside a run dir: its evidence manifest covers every file there, so a report written
  // into it afterwards would read as tampering.
  const out = options.output ?? (dirs.length === 1 ? path.join(path.dirname(path.resolve(dirs[0]!)), 'allure-report') : path.join(options.reportsDir, 'allure-report'));
  const inside = dirs.find((d) => isWithin(path.resolve(out), path.resolve(d)));
  if (inside) {
    throw new InputError('REPORT_INSIDE_RUN_DIR', `${out} is inside the run dir ${inside}: its evidence covers every file there, so a report in it would fail verify-evidence. Choose an --output outside it.`);
  }
  const historyInside = options.history === undefined ? undefined : dirs.find((d) => isWithin(path.resolve(options.history!), path.resolve(d)));
  if (historyInside) {
    throw new InputError('REPORT_INSIDE_RUN_DIR', `--history ${options.history} is inside the run dir ${historyInside}: its evidence covers every file there. Keep the history file outside the runs (e.g. reports/allure-history.jsonl).`);
  }
  const index = await generateAllureHtml(dirs.map((d) => path.join(d, 'allure-results')), out, options.history ? { historyPath: options.history } : {});
  console.log(`Allure report: ${index}`);
  return 0;
}

function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

const PROBLEM_LABEL = { tampered: 'TAMPERED', incomplete: 'INCOMPLETE', unverifiable: 'NOT VERIFIABLE' } as const;

/**
 * `drill verify-evidence <dir> [--public-key FILE]`: 0 intact (signed and checked, or unsigned
 * and said so), 1 tampered, incomplete, or signed but not verifiable; 2 for an unusable key file.
 */
export async function verifyEvidenceCommand(dir: string, options: { publicKey?: string }): Promise<number> {
  const publicKey = options.publicKey === undefined ? undefined : await readVerifyingKey(options.publicKey);
  const result = await verifyEvidence(dir, publicKey ? { publicKey } : {});
  if (!result.ok) {
    for (const p of result.problems) console.log(`${PROBLEM_LABEL[p.kind]}: ${p.message}`);
    console.log(`evidence NOT verified: ${result.problems.length} problem(s) in ${dir}`);
    return 1;
  }
  const m = result.manifest!;
  if (result.origin === 'signed') {
    console.log(`evidence intact and signed: ${m.entries.length} files, chain root ${m.root}`);
    console.log(`  signature verified: Ed25519 by ${m.signer?.publicKeyFingerprint} (${publicKey?.source})`);
  } else {
    console.log(`evidence chain intact: ${m.entries.length} files, chain root ${m.root}`);
    console.log('  NOT SIGNED: origin not proven. The files match this manifest, but anyone who can write them could have');
    console.log(`  recomputed it. For proof, sign with ${SIGNING_KEY_ENV} (npx drill keygen) and verify with --public-key.`);
  }
  return 0;
}

/** `drill keygen [--out prefix]`: an Ed25519 pair for signing evidence; the private key is never printed. */
export async function keygenCommand(options: { out: string }): Promise<number> {
  const pair = await generateEvidenceKeyPair(options.out);
  console.log(`private key: ${pair.privateKeyFile} (mode 0600; keep it secret, e.g. as a CI secret; never commit it)`);
  console.log(`public key:  ${pair.publicKeyFile} (give it to auditors)`);
  console.log(`fingerprint: ${pair.fingerprint}`);
  console.log(`sign:   ${SIGNING_KEY_ENV}=${pair.privateKeyFile} npx drill run <scenario.yaml>`);
  console.log(`verify: npx drill verify-evidence reports/<run-id> --public-key ${pair.publicKeyFile}`);
  return 0;
}
