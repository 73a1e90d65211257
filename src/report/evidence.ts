/**
 * The evidence bundle of a run (DESIGN.md sections 1 and 6): `<runDir>/evidence/` holds copies of
 * the journal and the incident report, the scenario as run, and a hash-chained manifest of every
 * file of the run that matters, optionally HMAC-signed. An auditor checks it offline with
 * `drill verify-evidence <dir>` (verifyEvidence, below).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { InputError } from '../engine/errors.js';
import type { Journal } from '../engine/journal-types.js';
import {
  buildChain,
  CHAIN_DESCRIPTION,
  EVIDENCE_DIR,
  type EvidenceManifest,
  hashFile,
  headerLine,
  keyFromEnv,
  listFiles,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  sign,
} from './evidence-manifest.js';
import { Redactor } from './redactor.js';

export type { EvidenceManifest, ManifestEntry } from './evidence-manifest.js';
export { verifyEvidence, type EvidenceVerification } from './evidence-verify.js';

const log = createDebug('drill:report');

export interface WriteEvidenceOptions {
  /** HMAC key; defaults to env DRILL_EVIDENCE_KEY. Pass `undefined` explicitly for an unsigned bundle. */
  key?: string;
  /** Clock for `createdAt` (tests). */
  now?: () => Date;
  /** The run's Redactor (the scenario's `${VAR}` values); without one, the pattern rules alone. */
  redactor?: Redactor;
}

/**
 * Writes `<runDir>/evidence/` from the run dir's journal.json, incident-report.md and
 * allure-results/, replacing any earlier bundle. Returns the manifest it wrote.
 */
export async function writeEvidence(runDir: string, options: WriteEvidenceOptions = {}): Promise<EvidenceManifest> {
  const journal = await readJournal(runDir);
  const evidenceDir = join(runDir, EVIDENCE_DIR);
  // A fresh bundle each time: a stale copy from an earlier write would be listed as current.
  await rm(evidenceDir, { recursive: true, force: true });
  await mkdir(evidenceDir, { recursive: true });

  // Copies pass through the Redactor too. Their sources were written through it, so they come out
  // byte-identical; a secret a writer let through would still not reach the bundle.
  const redactor = options.redactor ?? new Redactor();
  await copyRedacted(join(runDir, 'journal.json'), join(evidenceDir, 'journal.json'), redactor);
  const hasReport = await copyIfPresent(join(runDir, 'incident-report.md'), join(evidenceDir, 'incident-report.md'), redactor);
  // The scenario as the run understood it (defaults applied).
  await writeFile(join(evidenceDir, 'scenario.json'), `${redactor.json(journal.scenario.definition, 2)}\n`);

  const paths = [
    'journal.json',
    ...(hasReport ? ['incident-report.md'] : []),
    ...(await listFiles(runDir, 'allure-results')),
    ...(await listFiles(runDir, EVIDENCE_DIR)),
  ];
  const files = [];
  for (const path of paths) files.push({ path, ...(await hashFile(join(runDir, path))) });

  const head = {
    runId: journal.runId,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    harness: { name: journal.harness.name, version: journal.harness.version },
  };
  const { entries, root } = buildChain(headerLine(head), files);
  // Signing needs a key only the user holds (env DRILL_EVIDENCE_KEY, e.g. a CI secret): a key
  // shipped with the harness or the bundle would let anyone re-sign a tampered bundle. Without
  // one the chain still shows accidental or naive edits, but not a determined re-hash.
  const key = 'key' in options ? options.key : keyFromEnv();
  const manifest: EvidenceManifest = {
    manifestVersion: MANIFEST_VERSION,
    ...head,
    chain: CHAIN_DESCRIPTION,
    entries,
    root,
    signed: Boolean(key),
    ...(key ? { sigAlgorithm: 'HMAC-SHA256(root)' as const, sig: sign(root, key) } : {}),
  };
  await writeFile(join(evidenceDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  log('evidence for %s: %d files, root %s, signed %s', journal.runId, entries.length, root, manifest.signed);
  return manifest;
}

async function readJournal(runDir: string): Promise<Journal> {
  const path = join(runDir, 'journal.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError('EVIDENCE_NO_JOURNAL', `no journal at ${path}: pass a run dir (reports/<run-id>/) of a drill that ran`, { cause: error });
  }
  try {
    const journal = JSON.parse(text) as Journal;
    if (typeof journal.runId !== 'string' || !journal.harness || !journal.scenario) throw new Error('missing runId, harness or scenario');
    return journal;
  } catch (error) {
    throw new InputError('EVIDENCE_BAD_JOURNAL', `${path} is not a drill journal (${(error as Error).message}): re-run the drill to regenerate it`, { cause: error });
  }
}

async function copyRedacted(from: string, to: string, redactor: Redactor): Promise<void> {
  await writeFile(to, redactor.redactFileText(await readFile(from, 'utf8'), from.endsWith('.json')));
}

async function copyIfPresent(from: string, to: string, redactor: Redactor): Promise<boolean> {
  try {
    await copyRedacted(from, to, redactor);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    log('no %s: the bundle will not include it', from);
    return false;
  }
}
