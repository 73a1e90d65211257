import type { Queryable } from '../database.js';
import { tokenHash } from './token-hash.js';

export interface Caller {
  tokenId: number;
  tokenName: string;
}

/**
 * The caller a request's `Authorization: Bearer <token>` names, or undefined (unknown, revoked,
 * malformed, absent). Looked up in the database on every request, deliberately without a cache:
 * revoking a leaked token must take effect on the very next request, on every replica.
 * Database errors propagate (a 503, not a 401).
 */
export async function authenticate(db: Queryable, authorization: string | undefined): Promise<Caller | undefined> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const { rows } = await db.query<{ id: string; name: string }>(
    'select id::text, name from api_tokens where token_sha256 = $1 and revoked_at is null',
    [tokenHash(match[1]!)],
  );
  const row = rows[0];
  return row ? { tokenId: Number(row.id), tokenName: row.name } : undefined;
}
