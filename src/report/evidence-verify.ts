/**
 * Offline check of an evidence bundle (`drill verify-evidence <dir>`: exit 0 when ok, 1 when not).
 * Every problem is collected, not just the first, so an auditor sees the full extent of a change.
 */
import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import createDebug from 'debug';
import {
  EVIDENCE_DIR,
  EVIDENCE_KEY_ENV,
  type EvidenceManifest,
  entryLine,
  hashFile,
  headerLine,
  keyFromEnv,
  listFiles,
  MANIFEST_FILE,
  manifestSchema,
  sha256,
  signatureMatches,
} from './evidence-manifest.js';

const log = createDebug('drill:report');

export interface EvidenceVerification {
  ok: boolean;
  /** Tampering or incompleteness; any one makes `ok` false. */
  problems: string[];
  /** Worth saying but not a failure, e.g. a signature that could not be checked for want of a key. */
  warnings: string[];
  manifest?: EvidenceManifest;
}

/** Files every bundle must list: without them there is nothing to audit. */
const REQUIRED = ['journal.json', `${EVIDENCE_DIR}/journal.json`, `${EVIDENCE_DIR}/scenario.json`];
/** Where an added file would change what the run says: checked for unlisted files. */
const CLOSED_DIRS = [EVIDENCE_DIR, 'allure-results'];

/**
 * Verifies the bundle of `dir` (a run dir, or its evidence/ dir). The key defaults to env
 * DRILL_EVIDENCE_KEY; pass `{ key: undefined }` to verify without one.
 */
export async function verifyEvidence(dir: string, options: { key?: string } = {}): Promise<EvidenceVerification> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const done = (manifest?: EvidenceManifest): EvidenceVerification => {
    log('verify %s: %d problems, %d warnings', dir, problems.length, warnings.length);
    return { ok: problems.length === 0, problems, warnings, ...(manifest ? { manifest } : {}) };
  };

  const runDir = await locateRunDir(dir);
  if (!runDir) {
    problems.push(`no ${EVIDENCE_DIR}/${MANIFEST_FILE} under ${dir}: pass a run dir (reports/<run-id>/) or its ${EVIDENCE_DIR}/ dir`);
    return done();
  }
  const manifest = await readManifest(join(runDir, EVIDENCE_DIR, MANIFEST_FILE), problems);
  if (!manifest) return done();

  checkChain(manifest, problems);
  await checkFiles(runDir, manifest, problems);
  await checkRunId(runDir, manifest, problems);
  checkSignature(manifest, 'key' in options ? options.key : keyFromEnv(), problems, warnings);
  return done(manifest);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function locateRunDir(dir: string): Promise<string | undefined> {
  if (await exists(join(dir, EVIDENCE_DIR, MANIFEST_FILE))) return dir;
  if (basename(dir) === EVIDENCE_DIR && (await exists(join(dir, MANIFEST_FILE)))) return dirname(dir);
  return undefined;
}

async function readManifest(path: string, problems: string[]): Promise<EvidenceManifest | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    problems.push(`${EVIDENCE_DIR}/${MANIFEST_FILE} is not readable JSON: ${(error as Error).message}`);
    return undefined;
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    problems.push(`${EVIDENCE_DIR}/${MANIFEST_FILE} is malformed: ${issues}`);
    return undefined;
  }
  return parsed.data;
}

/** Recomputes the chain from the header; reports each break once (the next link restarts from it). */
function checkChain(manifest: EvidenceManifest, problems: string[]): void {
  let expected = sha256(headerLine(manifest));
  manifest.entries.forEach((entry, i) => {
    if (entry.prev !== expected) problems.push(`broken chain at entry ${i} (${entry.path}): prev does not match the previous line`);
    expected = sha256(entryLine(entry));
  });
  if (expected !== manifest.root) problems.push(`broken chain: root ${manifest.root} does not match the recomputed ${expected}`);
}

function isSafePath(path: string): boolean {
  return !path.startsWith('/') && !path.includes('\\') && posix.normalize(path) === path && !path.split('/').includes('..');
}

async function checkFiles(runDir: string, manifest: EvidenceManifest, problems: string[]): Promise<void> {
  const listed = new Set<string>();
  for (const entry of manifest.entries) {
    if (!isSafePath(entry.path)) {
      problems.push(`unsafe path in manifest: ${JSON.stringify(entry.path)}`);
      continue;
    }
    if (listed.has(entry.path)) problems.push(`listed twice: ${entry.path}`);
    listed.add(entry.path);
    try {
      const actual = await hashFile(join(runDir, entry.path));
      if (actual.sha256 !== entry.sha256 || actual.size !== entry.size) {
        problems.push(`modified: ${entry.path} (sha256 ${actual.sha256}, ${actual.size} bytes; manifest says ${entry.sha256}, ${entry.size} bytes)`);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(code === 'ENOENT' ? `missing: ${entry.path}` : `unreadable: ${entry.path} (${code ?? (error as Error).message})`);
    }
  }
  for (const path of REQUIRED) if (!listed.has(path)) problems.push(`incomplete: the manifest does not list ${path}`);
  for (const sub of CLOSED_DIRS) {
    for (const path of await listFiles(runDir, sub)) {
      if (path !== `${EVIDENCE_DIR}/${MANIFEST_FILE}` && !listed.has(path)) problems.push(`unlisted file: ${path}`);
    }
  }
}

/** A bundle moved under another run's name is caught even when every hash holds. */
async function checkRunId(runDir: string, manifest: EvidenceManifest, problems: string[]): Promise<void> {
  try {
    const journal = JSON.parse(await readFile(join(runDir, EVIDENCE_DIR, 'journal.json'), 'utf8')) as { runId?: unknown };
    if (journal.runId !== manifest.runId) problems.push(`runId mismatch: manifest ${manifest.runId}, journal ${String(journal.runId)}`);
  } catch {
    // Missing or unparsable: already reported as missing or modified.
  }
}

function checkSignature(manifest: EvidenceManifest, key: string | undefined, problems: string[], warnings: string[]): void {
  if (manifest.signed && !manifest.sig) problems.push('manifest says signed but has no sig');
  if (!manifest.signed && manifest.sig) problems.push('manifest has a sig but says unsigned');
  if (!manifest.sig) {
    // With a key in hand the verifier expects a signature: stripping it (and re-hashing) is the
    // cheapest forgery, so an unsigned bundle cannot count as authentic here.
    if (key) problems.push(`manifest is not signed, but a key was given (${EVIDENCE_KEY_ENV}): the bundle cannot be authenticated`);
    return;
  }
  if (!key) {
    warnings.push(`manifest is signed but no key was given (set ${EVIDENCE_KEY_ENV}): signature not checked`);
    return;
  }
  if (!signatureMatches(manifest.root, key, manifest.sig)) problems.push('bad signature: sig is not HMAC-SHA256(root) under the given key');
}
