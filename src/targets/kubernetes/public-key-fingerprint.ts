import { createHash, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** `sha256:<hex, 16 chars>` of a PEM public key's DER (SPKI): names a key in reports without its material. */
export async function publicKeyFingerprint(pemFile: string): Promise<string> {
  const der = createPublicKey(await readFile(pemFile, 'utf8')).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}
