import pg from 'pg';
import { adminConnection } from '../targets/postgres/sql-names.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { httpStatus } from '../targets/regions/http-status.js';
import type { Region } from '../targets/regions/types.js';
import { endClient } from '../targets/postgres/end-client.js';

/** How long a probe of the lost region may take before it counts as unreachable. */
const REACH_MS = 1_000;

/**
 * activate-dr-site's first action, "fence what is left of the primary region if reachable": its
 * API processes that answer HTTP within a second are SIGKILLed (all of the region's service
 * processes), its database is killed if it answers SQL. What does not answer (killed, frozen, cut
 * off) cannot be reached, as in a real region loss: reported as unreachable, never as fenced.
 */
export async function fenceLostRegion(region: Region, port: number, journal: (message: string, data: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
  const answering = (await Promise.all(region.apiAddresses.map(async (host) => ('status' in (await httpStatus(host, port, '/livez', REACH_MS)) ? host : undefined)))).filter(
    (h): h is string => h !== undefined,
  );
  const killed = answering.length > 0 ? await region.processes.kill() : [];
  const database = region.database;
  const databaseAnswers = await answersSql(adminConnection(database), REACH_MS * 2);
  if (databaseAnswers) await database.kill();
  const result = {
    service: answering.length > 0 ? { answered: answering, killed: killed.map((p) => p.name) } : 'unreachable: no API process of the region answers, nothing to fence',
    database: databaseAnswers ? { killed: database.name } : `unreachable: ${database.name} does not answer SQL, nothing to fence`,
  };
  journal(`fence of ${region.name}: service ${answering.length > 0 ? `${killed.length} processes killed` : 'unreachable'}, database ${databaseAnswers ? 'killed' : 'unreachable'}`, result);
  return result;
}


/** Whether the server answers `select 1` within `timeoutMs`, connecting included (a frozen server accepts and never answers). */
async function answersSql(connection: ConnectionInfo, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query('select 1')).rowCount === 1;
  } catch {
    return false;
  } finally {
    // Never wait long on a goodbye to a server that does not answer.
    await endClient(client, 200);
  }
}
