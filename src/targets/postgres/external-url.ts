import { InputError } from '../../engine/errors.js';
import { REDACTED, redactSecrets } from '../../report/redact.js';
import type { ConnectionInfo } from './types.js';

/**
 * The external provider's connection URL, `postgres://user:password@host:port/database`. Query
 * parameters are refused rather than ignored: silently dropping `sslmode=require` would downgrade a
 * connection the user asked to be encrypted.
 */
export function parseExternalUrl(url: string | undefined): ConnectionInfo {
  if (!url) {
    throw new InputError(
      'EXTERNAL_URL_MISSING',
      'targets.postgres.provider is external but targets.postgres.url is not set; give postgres://user:password@host:port/database',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text itself may hold the password, and a parse failure says nothing about where it ends.
    throw new InputError('EXTERNAL_URL_INVALID', 'targets.postgres.url is not a valid URL; expected postgres://user:password@host:port/database');
  }
  const where = `targets.postgres.url (${describeUrl(parsed)})`;
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InputError('EXTERNAL_URL_INVALID', `${where} must start with postgres:// or postgresql://`);
  }
  if (!parsed.hostname) throw new InputError('EXTERNAL_URL_INVALID', `${where} names no host`);
  if (parsed.search) {
    throw new InputError(
      'EXTERNAL_URL_UNSUPPORTED',
      `${where} has query parameters (${[...parsed.searchParams.keys()].join(', ')}), which the harness does not support; ` +
        'connect without them (TLS options are not supported by the external provider yet)',
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return {
    // new URL keeps the brackets of an IPv6 literal; libpq and node-postgres want the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 5432,
    user: parsed.username ? decodeURIComponent(parsed.username) : 'postgres',
    database: database || 'postgres',
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/** The URL for messages: scheme, user, host, port and database; never the password. */
export function describeUrl(url: URL): string {
  const user = url.username ? `${url.username}${url.password ? `:${REDACTED}` : ''}@` : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

export function describeConnection(c: ConnectionInfo): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  return `postgres://${encodeURIComponent(c.user)}@${host}:${c.port}/${encodeURIComponent(c.database)}`;
}

/**
 * Message text with the connection's password removed: the redaction rules first, then the literal
 * password, for tools that echo it in a form the rules do not know. Very short passwords are left to
 * the rules alone, since replacing every "ab" would make messages unreadable.
 */
export function scrubPassword(text: string, connection: ConnectionInfo): string {
  const redacted = redactSecrets(text);
  const { password } = connection;
  if (!password || password.length < 4) return redacted;
  return redacted.replaceAll(password, REDACTED).replaceAll(encodeURIComponent(password), REDACTED);
}
