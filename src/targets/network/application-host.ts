import { applicationConnection, databaseUrl } from '../kubernetes/database-url.js';
import type { ConnectionInfo } from '../postgres/types.js';
import { inDrillNetwork } from './in-drill-network.js';
import { HOST_IP } from './layout.js';

/**
 * The address at which the system under drill reaches the harness's host: in a drill network it
 * runs in pods, which reach the host at the network's host address, not at loopback; elsewhere
 * undefined (it runs beside the harness).
 */
export async function applicationHost(): Promise<string | undefined> {
  return (await inDrillNetwork()) ? HOST_IP : undefined;
}

/** DATABASE_URL of a connection as the system under drill reaches it from `appHost` (password included: for a Secret only). */
export function applicationDatabaseUrl(connection: ConnectionInfo, appHost: string | undefined): string {
  return databaseUrl(applicationConnection(connection, appHost));
}
