/**
 * The evidence bundle of a run (DESIGN.md sections 1 and 6): `<runDir>/evidence/` holds copies of
 * the journal and the incident report, the scenario as run, and a hash-chained manifest of every
 * file of the run directory, signed with Ed25519 when the user gives a signing key. An auditor
 * checks it offline with `drill verify-evidence <dir> --public-key <signer.pub>` (verifyEvidence).
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Journal } from '../engine/journal-types.js';
import type { SigningKey } from './evidence-keys.js';
import {
  buildChain,
  CHAIN_DESCRIPTION,
  COVERS_DESCRIPTION,
  EVIDENCE_DIR,
  type EvidenceManifest,
  headerLine,
  listRunDir,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  SIGNATURE_DESCRIPTION,
  SIGNATURE_FILE,
} from './evidence-manifest.js';
import { signManifest } from './evidence-signature.js';
import { hashFileReusing, type KnownDigest } from './file-identity.js';
import { Redactor } from './redactor.js';
import { TIMELINE_PNG_FILE } from './timeline-png.js';
import { TIMELINE_FILE } from './timeline-svg.js';

export type { EvidenceManifest, ManifestEntry } from './evidence-manifest.js';
export { verifyEvidence, type EvidenceProblem, type EvidenceVerification } from './evidence-verify.js';

const log = createDebug('drill:report');

export interface WriteEvidenceOptions {
  /**
   * Ed25519 key that signs the manifest (`drill run` reads it from DRILL_EVIDENCE_SIGNING_KEY).
   * Without one the bundle is unsigned: its chain shows the files are as listed, not who listed them.
   */
  signingKey?: SigningKey;
  /** Clock for `createdAt` (tests). */
  now?: () => Date;
  /** The run's Redactor (the scenario's `${VAR}` values); without one, the pattern rules alone. */
  redactor?: Redactor;
}

/**
 * Writes `<runDir>/evidence/` for a finished run, replacing any earlier bundle, and returns the
 * manifest. Call it last: any file written into the run dir afterwards fails verification.
 */
export async function writeEvidence(runDir: string, options: WriteEvidenceOptions = {}): Promise<EvidenceManifest> {
  const journal = await readJournal(runDir);
  const evidenceDir = join(runDir, EVIDENCE_DIR);
  // A fresh bundle each time: a stale copy (or signature) from an earlier write would be listed as current.
  await rm(evidenceDir, { recursive: true, force: true });
  await mkdir(evidenceDir, { recursive: true });

  // Copies pass through the Redactor too. Their sources were written through it, so they come out
  // byte-identical; a secret a writer let through would still not reach the bundle.
  const redactor = options.redactor ?? new Redactor();
  await copyRedacted(join(runDir, 'journal.json'), join(evidenceDir, 'journal.json'), redactor);
  await copyIfPresent(join(runDir, 'incident-report.md'), join(evidenceDir, 'incident-report.md'), redactor);
  // The picture the incident report shows, so the copy's image link resolves inside evidence/ too.
  await copyIfPresent(join(runDir, TIMELINE_FILE), join(evidenceDir, TIMELINE_FILE), redactor);
  // Its PNG, copied as bytes: it was drawn from the redacted SVG text, and an image is no text to redact.
  await copyBinaryIfPresent(join(runDir, TIMELINE_PNG_FILE), join(evidenceDir, TIMELINE_PNG_FILE));
  // The scenario as the run understood it (defaults applied).
  await writeFile(join(evidenceDir, 'scenario.json'), `${redactor.json(journal.scenario.definition, 2)}\n`);

  const { files: paths, irregular } = await listRunDir(runDir);
  if (irregular.length > 0) {
    // A symlink's target can change without its link changing: nothing a manifest could pin.
    throw new EnvironmentError('EVIDENCE_IRREGULAR_FILE', `cannot seal ${runDir}: ${irregular.join(', ')} is not a regular file (symlink, socket, FIFO or device); remove it and run \`drill run\` again`);
  }
  // Preserved forensics (hundreds of MB) were hashed again in the verify phase: while a file keeps
  // the identity it had then, that digest is its digest (file-identity.ts).
  const known = knownDigests(journal);
  const files = [];
  let reused = 0;
  for (const path of paths) {
    const { size, sha256, reused: wasKnown } = await hashFileReusing(join(runDir, path), known.get(path));
    if (wasKnown) reused += 1;
    files.push({ path, size, sha256 });
  }

  const key = options.signingKey;
  const head = {
    runId: journal.runId,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    harness: { name: journal.harness.name, version: journal.harness.version },
    signer: key ? { algorithm: 'Ed25519' as const, publicKeyFingerprint: key.fingerprint } : null,
  };
  const { entries, root } = buildChain(headerLine(head), files);
  const manifest: EvidenceManifest = {
    manifestVersion: MANIFEST_VERSION,
    ...head,
    covers: COVERS_DESCRIPTION,
    chain: CHAIN_DESCRIPTION,
    signature: SIGNATURE_DESCRIPTION,
    entries,
    root,
  };
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  await writeFile(join(evidenceDir, MANIFEST_FILE), bytes);
  if (key) await writeFile(join(evidenceDir, SIGNATURE_FILE), signManifest(bytes, key));
  log('evidence for %s: %d files (%d digests from the forensics recheck), root %s, signer %s', journal.runId, entries.length, reused, root, key?.fingerprint ?? 'none');
  return manifest;
}

/** The forensics recheck's digests of files that held still, by path relative to the run directory. */
function knownDigests(journal: Journal): Map<string, KnownDigest> {
  const known = new Map<string, KnownDigest>();
  for (const f of journal.forensics?.recheck?.files ?? []) {
    if (f.sha256 !== undefined && f.size !== undefined && f.identity !== undefined) known.set(f.path, { sha256: f.sha256, size: f.size, identity: f.identity });
  }
  return known;
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

async function copyBinaryIfPresent(from: string, to: string): Promise<void> {
  try {
    await copyFile(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    log('no %s: the bundle will not include it', from);
  }
}
