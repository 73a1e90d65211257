import type { ConnectionInfo, PgInstance } from './types.js';

/** An SQL identifier, quoted (names come from scenario files). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The instance's maintenance database: for cluster-wide questions (replication, WAL, roles). */
export function adminConnection(instance: PgInstance): ConnectionInfo {
  return { ...instance.connection, database: 'postgres' };
}
