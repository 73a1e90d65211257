import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { drillCacheDir } from '../../engine/cache-dir.js';

/**
 * Evidence that is secret by nature (a process's memory holds the service's database password and
 * tokens; a physical copy of the database its stored token hashes, role verifiers and server log)
 * cannot go through the Redactor: it is binary, and an investigator needs it exact. It is written
 * into the run directory sealed (AES-256-GCM), so the run directory stays free of secrets in clear
 * while the evidence manifest still hashes and signs what is there. The key of a run is a random
 * 32 bytes in a root-only file outside the run directory (0600 in a 0700 directory); only its path
 * is recorded. Whoever is allowed to open the evidence is given that file; whoever only needs to
 * know it is intact checks the sealed file's sha256 (and the plaintext's, after opening it).
 *
 * Sealed file: MAGIC, 12-byte IV, ciphertext, 16-byte GCM tag.
 */
const MAGIC = Buffer.from('DRILLSEAL1\n', 'latin1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SEAL_CIPHER = 'aes-256-gcm';

/**
 * `$DRILL_FORENSIC_SEAL_DIR`, else `${DRILL_CACHE_DIR:-~/.cache/drill}/forensic-keys`. (Not named
 * ..._KEYS_DIR: a DRILL_ name that says KEY is taken for a secret and never reaches the drill's child
 * processes, child-environment.ts.)
 */
export function forensicKeysDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRILL_FORENSIC_SEAL_DIR || path.join(drillCacheDir(env), 'forensic-keys');
}

/** The run's sealing key file, created on first use (0600 in a 0700 directory). */
export function sealingKeyFile(runId: string, dir: string = forensicKeysDir()): { file: string; key: Buffer } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Never loosen or tighten a directory the user pointed at (it could be /tmp): refuse one others can enter.
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new Error(`the forensic key directory ${dir} is open to other users (mode ${mode.toString(8)}): chmod 700 it, or set DRILL_FORENSIC_SEAL_DIR to a directory only you can enter`);
  const file = path.join(dir, `${runId.replace(/[^A-Za-z0-9._-]/g, '_')}.key`);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return { file, key: readKey(file) };
}

function readKey(file: string): Buffer {
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length !== 32) throw new Error(`${file} is not a drill forensic key (64 hex digits)`);
  return key;
}

export interface SealResult {
  /** Of the sealed file as written (what the manifest and the recheck compare). */
  bytes: number;
  sha256: string;
  /** Of the evidence itself, before sealing: what an investigator checks after opening it. */
  plaintextBytes: number;
  plaintextSha256: string;
}

/** Streams `source` into `target` sealed with `key` (never in clear on disk); `wx`: an existing file is an error. */
export async function sealInto(target: string, key: Buffer, source: AsyncIterable<Buffer>): Promise<SealResult> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(SEAL_CIPHER, key, iv);
  const plain = createHash('sha256');
  const sealed = createHash('sha256');
  const out = await open(target, 'wx', 0o600);
  let bytes = 0;
  let plaintextBytes = 0;
  const write = async (chunk: Buffer) => {
    sealed.update(chunk);
    bytes += chunk.length;
    await out.write(chunk);
  };
  try {
    await write(Buffer.concat([MAGIC, iv]));
    for await (const chunk of source) {
      plain.update(chunk);
      plaintextBytes += chunk.length;
      await write(cipher.update(chunk));
    }
    await write(Buffer.concat([cipher.final(), cipher.getAuthTag()]));
  } finally {
    await out.close();
  }
  return { bytes, sha256: sealed.digest('hex'), plaintextBytes, plaintextSha256: plain.digest('hex') };
}

/** Opens a sealed file with its run's key file (an investigator's tool; throws if a byte was changed). */
export function openSealed(file: string, keyFile: string): Buffer {
  const all = readFileSync(file);
  if (!all.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file} is not a drill sealed file`);
  const iv = all.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  const tag = all.subarray(all.length - TAG_BYTES);
  const decipher = createDecipheriv(SEAL_CIPHER, readKey(keyFile), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(all.subarray(MAGIC.length + IV_BYTES, all.length - TAG_BYTES)), decipher.final()]);
}
