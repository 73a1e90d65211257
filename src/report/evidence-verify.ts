/**
 * Offline check of an evidence bundle (`drill verify-evidence <dir> [--public-key FILE]`).
 * Every problem is collected, not just the first, so an auditor sees the full extent of a change.
 *
 * What a pass means depends on the bundle:
 * - signed, checked with the signer's public key: the files are exactly those the key's holder
 *   sealed (origin proven);
 * - unsigned: the files match the manifest, but anyone who can write them could have recomputed
 *   the manifest (origin not proven); given a public key, an unsigned bundle fails.
 * A signed bundle checked without a public key fails: a signature that cannot be checked proves
 * nothing, and passing it would make stripping nothing but a label (DESIGN.md section 6).
 */
import { access, lstat, readFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import createDebug from 'debug';
import type { VerifyingKey } from './evidence-keys.js';
import {
  comparePaths,
  EVIDENCE_DIR,
  type EvidenceManifest,
  entryLine,
  hashFile,
  headerLine,
  listRunDir,
  MANIFEST_FILE,
  MANIFEST_PATH,
  MANIFEST_VERSION,
  manifestSchema,
  sha256,
  SIGNATURE_PATH,
} from './evidence-manifest.js';
import { checkManifestSignature } from './evidence-signature.js';

const log = createDebug('drill:report');

export interface EvidenceProblem {
  /** tampered: something differs from what was sealed; incomplete: something is missing; unverifiable: the origin cannot be checked as asked. */
  kind: 'tampered' | 'incomplete' | 'unverifiable';
  message: string;
}

export interface EvidenceVerification {
  ok: boolean;
  problems: EvidenceProblem[];
  /** When ok: `signed` = signature checked with the given key; `unsigned` = intact, origin not proven. */
  origin?: 'signed' | 'unsigned';
  manifest?: EvidenceManifest;
}

/** Files every bundle must list: without them there is nothing to audit. */
const REQUIRED = ['journal.json', `${EVIDENCE_DIR}/journal.json`, `${EVIDENCE_DIR}/scenario.json`];

/** Verifies the bundle of `dir` (a run dir, or its evidence/ dir) against the auditor's public key, if any. */
export async function verifyEvidence(dir: string, options: { publicKey?: VerifyingKey } = {}): Promise<EvidenceVerification> {
  const problems: EvidenceProblem[] = [];
  const add = (kind: EvidenceProblem['kind'], message: string) => problems.push({ kind, message });
  const done = (manifest?: EvidenceManifest, origin?: EvidenceVerification['origin']): EvidenceVerification => {
    log('verify %s: %d problems', dir, problems.length);
    const ok = problems.length === 0;
    return { ok, problems, ...(ok && origin ? { origin } : {}), ...(manifest ? { manifest } : {}) };
  };

  const runDir = await locateRunDir(dir);
  if (!runDir) {
    add('incomplete', `no ${MANIFEST_PATH} under ${dir}: pass a run dir (reports/<run-id>/) or its ${EVIDENCE_DIR}/ dir`);
    return done();
  }
  const bytes = await readFile(join(runDir, MANIFEST_PATH)).catch((error: NodeJS.ErrnoException) => {
    add('incomplete', `${MANIFEST_PATH} cannot be read (${error.code ?? error.message})`);
    return undefined;
  });
  if (!bytes) return done();
  const manifest = parseManifest(bytes, add);
  if (!manifest) return done();

  checkChain(manifest, add);
  checkOrder(manifest, add);
  await checkFiles(runDir, manifest, add);
  await checkRunId(runDir, manifest, add);
  const origin = await checkSignature(runDir, manifest, bytes, options.publicKey, add);
  return done(manifest, origin);
}

type Add = (kind: EvidenceProblem['kind'], message: string) => void;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function locateRunDir(dir: string): Promise<string | undefined> {
  if (await exists(join(dir, MANIFEST_PATH))) return dir;
  if (basename(dir) === EVIDENCE_DIR && (await exists(join(dir, MANIFEST_FILE)))) return dirname(dir);
  return undefined;
}

function parseManifest(bytes: Buffer, add: Add): EvidenceManifest | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    add('tampered', `${MANIFEST_PATH} is not readable JSON: ${(error as Error).message}`);
    return undefined;
  }
  const version = (raw as { manifestVersion?: unknown } | null)?.manifestVersion;
  if (version === 1) {
    add('unverifiable', `${MANIFEST_PATH} is format 1 (hash chain over some files, HMAC or no signature), from drill before Ed25519 signing: this verifier checks format ${MANIFEST_VERSION}; run the drill again with this version`);
    return undefined;
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    add('tampered', `${MANIFEST_PATH} is malformed: ${issues}`);
    return undefined;
  }
  return parsed.data;
}

/** Recomputes the chain from the header; reports each break once (the next link restarts from it). */
function checkChain(manifest: EvidenceManifest, add: Add): void {
  let expected = sha256(headerLine(manifest));
  manifest.entries.forEach((entry, i) => {
    if (entry.prev !== expected) add('tampered', `broken chain at entry ${i} (${entry.path}): prev does not match the previous line`);
    expected = sha256(entryLine(entry));
  });
  if (expected !== manifest.root) add('tampered', `broken chain: root ${manifest.root} does not match the recomputed ${expected}`);
}

/** Canonical order, each path once: a re-chained reordering or a duplicate entry shows here. */
function checkOrder(manifest: EvidenceManifest, add: Add): void {
  for (let i = 1; i < manifest.entries.length; i++) {
    const [a, b] = [manifest.entries[i - 1]!.path, manifest.entries[i]!.path];
    if (comparePaths(a, b) >= 0) add('tampered', `entries out of canonical order at entry ${i}: ${b} after ${a} (sorted by UTF-8 bytes, each path once)`);
  }
}

function isSafePath(path: string): boolean {
  return !path.startsWith('/') && !path.includes('\\') && posix.normalize(path) === path && !path.split('/').includes('..');
}

async function checkFiles(runDir: string, manifest: EvidenceManifest, add: Add): Promise<void> {
  const listed = new Set<string>();
  for (const entry of manifest.entries) {
    if (!isSafePath(entry.path) || entry.path === MANIFEST_PATH || entry.path === SIGNATURE_PATH) {
      add('tampered', `path the manifest cannot list: ${JSON.stringify(entry.path)}`);
      continue;
    }
    listed.add(entry.path);
    const file = join(runDir, entry.path);
    const stat = await lstat(file).catch((error: NodeJS.ErrnoException) => error);
    if (stat instanceof Error) {
      if (stat.code === 'ENOENT') add('incomplete', `missing: ${entry.path}`);
      else add('incomplete', `unreadable: ${entry.path} (${stat.code ?? stat.message})`);
      continue;
    }
    // Irregular entries are reported by the walk below; a hash through a link pins nothing.
    if (!stat.isFile()) continue;
    try {
      const actual = await hashFile(file);
      if (actual.sha256 !== entry.sha256 || actual.size !== entry.size) {
        add('tampered', `modified: ${entry.path} (sha256 ${actual.sha256}, ${actual.size} bytes; manifest says ${entry.sha256}, ${entry.size} bytes)`);
      }
    } catch (error) {
      add('incomplete', `unreadable: ${entry.path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  for (const path of REQUIRED) if (!listed.has(path)) add('incomplete', `the manifest does not list ${path}`);
  const listing = await listRunDir(runDir).catch((error: NodeJS.ErrnoException) => {
    add('incomplete', `cannot list every file of ${runDir} (${error.code ?? error.message}): unlisted files cannot be ruled out`);
    return { files: [], irregular: [] };
  });
  const { files, irregular } = listing;
  for (const path of files) if (!listed.has(path)) add('tampered', `unlisted file: ${path}`);
  for (const path of irregular) add('tampered', `not a regular file: ${path} (symlink, socket, FIFO or device)`);
}

/** A bundle moved under another run's name is caught even when every hash holds. */
async function checkRunId(runDir: string, manifest: EvidenceManifest, add: Add): Promise<void> {
  try {
    const journal = JSON.parse(await readFile(join(runDir, EVIDENCE_DIR, 'journal.json'), 'utf8')) as { runId?: unknown };
    if (journal.runId !== manifest.runId) add('tampered', `runId mismatch: manifest ${manifest.runId}, journal ${String(journal.runId)}`);
  } catch {
    // Missing or unparsable: already reported as missing or modified.
  }
}

async function checkSignature(
  runDir: string,
  manifest: EvidenceManifest,
  bytes: Buffer,
  key: VerifyingKey | undefined,
  add: Add,
): Promise<EvidenceVerification['origin']> {
  const signature = await readFile(join(runDir, SIGNATURE_PATH), 'utf8').catch(() => undefined);
  const signer = manifest.signer;
  if (!signer) {
    if (signature !== undefined) add('tampered', `${SIGNATURE_PATH} is present but the manifest names no signer`);
    // Stripping the signature (and re-chaining) is the cheapest forgery: with a key in hand the
    // auditor expects a signed bundle, so an unsigned one cannot pass.
    if (key) add('unverifiable', `the bundle is not signed, so it cannot be checked against ${key.source} (${key.fingerprint}): its origin is not proven`);
    return 'unsigned';
  }
  if (signature === undefined) {
    add('tampered', `the manifest names signer ${signer.publicKeyFingerprint} but ${SIGNATURE_PATH} is missing (signature removed)`);
    return undefined;
  }
  if (!key) {
    add('unverifiable', `signed by ${signer.publicKeyFingerprint} (Ed25519), but no public key was given: pass --public-key <the signer's .pub file> to check the signature`);
    return undefined;
  }
  if (key.fingerprint !== signer.publicKeyFingerprint) {
    add('tampered', `signer mismatch: the manifest names ${signer.publicKeyFingerprint}, the given public key ${key.source} is ${key.fingerprint}`);
  }
  const check = checkManifestSignature(bytes, signature, key);
  if (check === 'malformed') add('tampered', `${SIGNATURE_PATH} is not a base64 Ed25519 signature (64 bytes)`);
  if (check === 'invalid') add('tampered', `bad signature: ${SIGNATURE_PATH} is not an Ed25519 signature of ${MANIFEST_PATH} by ${key.fingerprint}`);
  return 'signed';
}
