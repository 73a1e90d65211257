import { isUnavailable, messageOf } from '../database.js';
import type { Route } from '../http/types.js';
import { readSchemaVersion, schemaSatisfies } from '../schema-version.js';
import type { ServiceDeps } from '../service-deps.js';

const UNDEFINED_TABLE = '42P01';

/**
 * GET /health: what the runbook's `curl -f .../health` and readiness probes ask. 200 only when the
 * database answers and its schema is one this release was built for; 503 otherwise, with the
 * reason. GET /livez: the process is alive and serving (no database), for liveness probes, so a
 * database outage does not make Kubernetes restart every pod.
 */
export function healthRoutes(deps: ServiceDeps): Route[] {
  const { config } = deps;
  const base = () => ({
    version: config.release.version,
    region: config.region,
    colour: config.colour,
    mode: config.mode,
    readOnly: config.readOnly || config.mode === 'reader',
    expectedSchemaVersion: config.release.expectedSchemaVersion,
  });
  return [
    { method: 'GET', pattern: '/livez', infrastructure: true, handler: async () => ({ status: 200, body: { status: 'alive' } }) },
    {
      method: 'GET',
      pattern: '/health',
      async handler() {
        if (deps.state.shuttingDown) {
          return { status: 503, body: { ...base(), status: 'unavailable', reason: 'shutting_down' }, logLevel: 'info' };
        }
        let databaseUser: string;
        let schemaVersion: string | undefined;
        try {
          databaseUser = (await deps.pool.query<{ user: string }>('select current_user as user')).rows[0]!.user;
          // No schema_migrations table (an empty database) is a schema mismatch, not an outage.
          schemaVersion = await readSchemaVersion(deps.pool).catch((error: unknown) => {
            if ((error as { code?: string }).code === UNDEFINED_TABLE) return undefined;
            throw error;
          });
        } catch (error) {
          deps.metrics.databaseErrors.inc({ operation: 'health' });
          const unreachable = isUnavailable(error);
          return {
            status: 503,
            body: { ...base(), status: 'unavailable', reason: unreachable ? 'database_unreachable' : 'database_error', database: unreachable ? 'unreachable' : 'error', schemaVersion: null },
            logFields: { err: messageOf(error) },
          };
        }
        const ok = schemaSatisfies(schemaVersion, config.release.expectedSchemaVersion);
        const body = { ...base(), status: ok ? 'ok' : 'unavailable', database: 'reachable', databaseUser, schemaVersion: schemaVersion ?? null };
        return ok ? { status: 200, body } : { status: 503, body: { ...body, reason: 'schema_mismatch' } };
      },
    },
  ];
}
