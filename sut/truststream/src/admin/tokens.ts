import type { Queryable } from '../database.js';
import { newToken, tokenHash } from '../domain/token-hash.js';

export interface CreatedToken {
  name: string;
  /** The clear token: returned once, stored nowhere (only its sha256 is). */
  token: string;
}

export class TokenError extends Error {
  constructor(
    readonly code: 'TOKEN_NAME_IN_USE' | 'TOKEN_NOT_FOUND' | 'TOKEN_NAME_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/;

/**
 * Creates an API token named `name` (one active token per name) and returns it in clear, once.
 * The database keeps only its sha256 hex. For the harness (on its own connection) and for the
 * `truststream token create` command.
 */
export async function createToken(db: Queryable, name: string): Promise<CreatedToken> {
  if (!NAME.test(name)) throw new TokenError('TOKEN_NAME_INVALID', `token name ${JSON.stringify(name)}: use 1-63 letters, digits and . _ : -`);
  const token = newToken();
  const { rowCount } = await db.query(
    'insert into api_tokens (name, token_sha256) values ($1, $2) on conflict (name) where revoked_at is null do nothing',
    [name, tokenHash(token)],
  );
  if (rowCount === 0) throw new TokenError('TOKEN_NAME_IN_USE', `an active token named ${name} exists; revoke it first (truststream token revoke --name ${name})`);
  return { name, token };
}

/** Revokes the active token named `name`: from the next request on it is refused (401). Returns when it was revoked. */
export async function revokeToken(db: Queryable, name: string): Promise<{ name: string; revokedAt: string }> {
  const { rows } = await db.query<{ revoked_at: Date }>(
    'update api_tokens set revoked_at = clock_timestamp() where name = $1 and revoked_at is null returning revoked_at',
    [name],
  );
  if (!rows[0]) throw new TokenError('TOKEN_NOT_FOUND', `no active token named ${name}`);
  return { name, revokedAt: rows[0].revoked_at.toISOString() };
}

/** The runbook's "Revoke all API tokens --emergency": every active token, at once. Returns the names revoked. */
export async function revokeAllTokens(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>('update api_tokens set revoked_at = clock_timestamp() where revoked_at is null returning name');
  return rows.map((r) => r.name).sort();
}
