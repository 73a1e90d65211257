import type { ConnectionInfo } from '../postgres/types.js';

/**
 * The application's DATABASE_URL for a connection, password included: it goes into a Secret and
 * nowhere else (callers journal describeConnection or a redacted form).
 */
export function databaseUrl(c: ConnectionInfo): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const auth = c.password === undefined ? encodeURIComponent(c.user) : `${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}`;
  return `postgresql://${auth}@${host}:${c.port}/${encodeURIComponent(c.database)}`;
}

/**
 * A connection as the system under drill sees it: the harness's loopback address becomes the drill
 * network's host address (`appHost`) when the application runs in pods on real nodes.
 */
export function applicationConnection(c: ConnectionInfo, appHost: string | undefined): ConnectionInfo {
  return appHost && (c.host === '127.0.0.1' || c.host === 'localhost') ? { ...c, host: appHost } : c;
}
