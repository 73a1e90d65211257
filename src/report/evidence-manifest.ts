/**
 * The evidence manifest format (version 2) and its hash chain, shared by the writer and the
 * verifier. Everything here can be recomputed by an auditor without this code:
 *
 * - Coverage: every regular file under the run directory, except the manifest and its signature
 *   (`evidence/manifest.json`, `evidence/manifest.sig`), in canonical order: paths relative to
 *   the run directory, `/`-separated, sorted by their UTF-8 bytes (`LC_ALL=C sort`).
 * - Chain: a header line binds manifestVersion, runId, createdAt, harness and signer; each
 *   entry's `prev` is the sha256 of the previous line (the header for the first entry); `root`
 *   is the sha256 of the last line. A line is `JSON.stringify` of a fixed-order object.
 * - Signature (evidence-signature.ts): Ed25519 over the exact bytes of manifest.json, in
 *   `evidence/manifest.sig` (base64). Without it, the chain shows that the files match the
 *   manifest, but not who wrote the manifest: anyone can recompute a chain.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { z } from 'zod';

export const MANIFEST_VERSION = 2;
export const EVIDENCE_DIR = 'evidence';
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const MANIFEST_PATH = `${EVIDENCE_DIR}/${MANIFEST_FILE}`;
export const SIGNATURE_PATH = `${EVIDENCE_DIR}/${SIGNATURE_FILE}`;
/** The two files the manifest cannot list: itself and the signature over it. */
const UNLISTED = new Set([MANIFEST_PATH, SIGNATURE_PATH]);

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const entrySchema = z.strictObject({
  /** Relative to the run dir, `/`-separated. */
  path: z.string().min(1),
  size: z.number().int().min(0),
  sha256: hex64,
  prev: hex64,
});

const signerSchema = z.strictObject({
  algorithm: z.literal('Ed25519'),
  /** `sha256:<hex>` of the public key's DER SubjectPublicKeyInfo. */
  publicKeyFingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});

export const manifestSchema = z.strictObject({
  manifestVersion: z.literal(MANIFEST_VERSION),
  runId: z.string(),
  createdAt: z.string(),
  harness: z.strictObject({ name: z.string(), version: z.string() }),
  /** Who signed `evidence/manifest.sig`; null: unsigned, origin not proven. */
  signer: signerSchema.nullable(),
  covers: z.string(),
  chain: z.string(),
  signature: z.string(),
  entries: z.array(entrySchema),
  root: hex64,
});

export type ManifestEntry = z.infer<typeof entrySchema>;
export type ManifestSigner = z.infer<typeof signerSchema>;
export type EvidenceManifest = z.infer<typeof manifestSchema>;
export type ManifestHeader = Pick<EvidenceManifest, 'runId' | 'createdAt' | 'harness' | 'signer'>;

/** Descriptions written into every manifest, for an auditor reading it without this code. */
export const COVERS_DESCRIPTION =
  `every regular file under the run directory except ${MANIFEST_PATH} and ${SIGNATURE_PATH}; ` +
  'paths relative to it, /-separated, sorted by UTF-8 bytes (LC_ALL=C sort); a file added, removed, reordered or changed fails verification';
export const CHAIN_DESCRIPTION =
  'entries[i].prev = sha256(line(i-1)), line(-1) = JSON.stringify({manifestVersion,runId,createdAt,harness,signer}), ' +
  'line(i) = JSON.stringify({path,size,sha256,prev}); root = sha256(last line)';
export const SIGNATURE_DESCRIPTION =
  `${SIGNATURE_PATH} = base64(Ed25519 signature of the exact bytes of ${MANIFEST_PATH}) by the key named in signer; absent when signer is null`;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function headerLine(m: ManifestHeader): string {
  return JSON.stringify({
    manifestVersion: MANIFEST_VERSION,
    runId: m.runId,
    createdAt: m.createdAt,
    harness: { name: m.harness.name, version: m.harness.version },
    signer: m.signer ? { algorithm: m.signer.algorithm, publicKeyFingerprint: m.signer.publicKeyFingerprint } : null,
  });
}

export function entryLine(e: ManifestEntry): string {
  return JSON.stringify({ path: e.path, size: e.size, sha256: e.sha256, prev: e.prev });
}

/** Links file facts into a chain after the header; returns the entries and the root. */
export function buildChain(header: string, files: Array<Omit<ManifestEntry, 'prev'>>): { entries: ManifestEntry[]; root: string } {
  let prev = sha256(header);
  const entries = files.map((f) => {
    const entry = { ...f, prev };
    prev = sha256(entryLine(entry));
    return entry;
  });
  return { entries, root: prev };
}

/** The canonical order of paths: by their UTF-8 bytes, the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Read size of hashFile: sealed forensics are hundreds of MB, and with the stream's default 64 KiB
 * a third of the time went to the stream, not the hash (1 MiB: 240 MB in 0.2 s instead of 0.3 s).
 */
const HASH_READ_BYTES = 1 << 20;

/** sha256 and size of a file, streamed (allure attachments, runner.log and memory dumps can be large). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: HASH_READ_BYTES }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), size };
}

export interface RunDirListing {
  /** Regular files the manifest must list, in canonical order. */
  files: string[];
  /** Symlinks, sockets, FIFOs, devices: nothing a drill writes, and nothing a hash can pin. */
  irregular: string[];
}

/**
 * Every entry under the run directory (manifest and signature aside), as `/`-separated paths
 * relative to it. Directories are walked, not listed: an empty one carries no content.
 */
export async function listRunDir(runDir: string): Promise<RunDirListing> {
  const files: string[] = [];
  const irregular: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const d of await readdir(join(runDir, rel), { withFileTypes: true })) {
      const child = rel ? posix.join(rel, d.name) : d.name;
      if (d.isDirectory()) await walk(child);
      else if (d.isFile()) {
        if (!UNLISTED.has(child)) files.push(child);
      } else irregular.push(child);
    }
  };
  await walk('');
  return { files: files.sort(comparePaths), irregular: irregular.sort(comparePaths) };
}
