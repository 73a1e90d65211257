/**
 * `drill keygen`: a fresh Ed25519 key pair for signing evidence. The private key goes to
 * `<prefix>.key` (PKCS#8 PEM, mode 0600, created exclusively), the public key to `<prefix>.pub`
 * (SPKI PEM). Existing files are never overwritten: a key that signed earlier bundles must not
 * be lost to a typo.
 */
import { generateKeyPairSync } from 'node:crypto';
import { lstat, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../engine/errors.js';
import { fingerprintOf } from './evidence-keys.js';

export interface GeneratedKeyPair {
  privateKeyFile: string;
  publicKeyFile: string;
  fingerprint: string;
}

export async function generateEvidenceKeyPair(prefix: string): Promise<GeneratedKeyPair> {
  const privateKeyFile = resolve(`${prefix}.key`);
  const publicKeyFile = resolve(`${prefix}.pub`);
  for (const file of [privateKeyFile, publicKeyFile]) {
    if (await lstat(file).then(() => true, () => false)) {
      throw new InputError('KEYGEN_FILE_EXISTS', `${file} exists and is not overwritten: choose another --out prefix, or move the old key away first`);
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // 'wx': fail instead of following a link or replacing a file created since the check above;
  // the mode is set at creation, so the key is never readable by others, not even briefly.
  await writeExclusive(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  try {
    await writeExclusive(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }), 0o644);
  } catch (error) {
    await rm(privateKeyFile, { force: true });
    throw error;
  }
  return { privateKeyFile, publicKeyFile, fingerprint: fingerprintOf(publicKey) };
}

async function writeExclusive(file: string, content: string | Buffer, mode: number): Promise<void> {
  try {
    await writeFile(file, content, { flag: 'wx', mode });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError('KEYGEN_FILE_EXISTS', `${file} exists and is not overwritten: choose another --out prefix`);
    throw new InputError('KEYGEN_CANNOT_WRITE', `cannot write ${file} (${code ?? (error as Error).message}): choose an --out prefix in a directory you can write`);
  }
}
