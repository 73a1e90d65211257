/**
 * The evidence manifest format and its hash chain, shared by the writer and the verifier.
 *
 * Chain: a header line binds runId, createdAt and the harness; each entry's `prev` is the sha256
 * of the previous line (the header for the first entry); `root` is the sha256 of the last line.
 * A line is `JSON.stringify` of a fixed-order object, so an auditor can recompute it without this
 * code. Reordering, inserting, dropping or editing an entry changes `root`; `sig` (HMAC-SHA256 of
 * `root`) makes the whole bundle unforgeable by someone without the key.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { z } from 'zod';

export const MANIFEST_VERSION = 1;
export const EVIDENCE_DIR = 'evidence';
export const MANIFEST_FILE = 'manifest.json';
/** Environment variable holding the HMAC key; the key belongs to the user, never to the bundle. */
export const EVIDENCE_KEY_ENV = 'DRILL_EVIDENCE_KEY';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const entrySchema = z.object({
  /** Relative to the run dir, `/`-separated. */
  path: z.string().min(1),
  size: z.number().int().min(0),
  sha256: hex64,
  prev: hex64,
});

export const manifestSchema = z.object({
  manifestVersion: z.literal(MANIFEST_VERSION),
  runId: z.string(),
  createdAt: z.string(),
  harness: z.object({ name: z.string(), version: z.string() }),
  chain: z.string(),
  entries: z.array(entrySchema),
  root: hex64,
  signed: z.boolean(),
  sigAlgorithm: z.literal('HMAC-SHA256(root)').optional(),
  sig: hex64.optional(),
});

export type ManifestEntry = z.infer<typeof entrySchema>;
export type EvidenceManifest = z.infer<typeof manifestSchema>;

export const CHAIN_DESCRIPTION =
  'entries[i].prev = sha256(line(i-1)), line(-1) = JSON.stringify({manifestVersion,runId,createdAt,harness}), ' +
  'line(i) = JSON.stringify({path,size,sha256,prev}); root = sha256(last line); sig = HMAC-SHA256(key, root)';

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function headerLine(m: Pick<EvidenceManifest, 'runId' | 'createdAt' | 'harness'>): string {
  return JSON.stringify({
    manifestVersion: MANIFEST_VERSION,
    runId: m.runId,
    createdAt: m.createdAt,
    harness: { name: m.harness.name, version: m.harness.version },
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

export function sign(root: string, key: string): string {
  return createHmac('sha256', key).update(root, 'utf8').digest('hex');
}

export function signatureMatches(root: string, key: string, sig: string): boolean {
  const expected = Buffer.from(sign(root, key), 'hex');
  const actual = Buffer.from(sig, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The key from the environment; an empty value counts as unset. */
export function keyFromEnv(): string | undefined {
  return process.env[EVIDENCE_KEY_ENV] || undefined;
}

/** sha256 and size of a file, streamed (allure attachments can be large). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Every non-directory under `root/sub` as `/`-separated paths relative to `root`, sorted by code
 * unit so the order is the same on every machine and locale. Missing dir: empty list.
 */
export async function listFiles(root: string, sub: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let dirents;
    try {
      dirents = await readdir(join(root, rel), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const d of dirents) {
      const child = posix.join(rel, d.name);
      if (d.isDirectory()) await walk(child);
      else found.push(child);
    }
  };
  await walk(sub);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
