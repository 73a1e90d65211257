import { createHash, randomBytes } from 'node:crypto';

/** How a token is stored: only its sha256 (hex). A leaked table does not leak usable tokens. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new bearer token: 32 random bytes, base64url, with a prefix that secret scanners can match. */
export function newToken(): string {
  return `tst_${randomBytes(32).toString('base64url')}`;
}
