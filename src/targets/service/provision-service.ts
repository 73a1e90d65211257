import type { ServiceSpec } from '../../scenario/schema.js';
import type { ConnectionInfo } from '../postgres/types.js';
import { PlainService } from './plain-service.js';
import { redactFilesUnder } from '../../report/redact-files.js';
import { createServiceCredentials } from './service-credentials.js';
import type { JournalRecorder } from '../../engine/journal-recorder.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import type { TeardownStack } from '../../engine/teardown-stack.js';

export interface ProvisionServiceOptions {
  runId: string;
  ledger: ResourceLedger;
  teardown: TeardownStack;
  recorder: JournalRecorder;
  signal: AbortSignal;
  /** The drill database the service runs against (the router's current instance). */
  database: () => ConnectionInfo;
  /** Where the processes' logs are kept (the run directory); default: removed with the processes. */
  logDir?: string;
}

/**
 * Starts the service as plain processes against the drill database, after creating what it needs
 * there as a deployment would: an API token for the drill's clients and, when readers run, the
 * read-only role. Both are secrets of the run (registered with `recorder.secrets`); the processes
 * get them only in their own environment (DATABASE_URL, READER_DATABASE_URL). Teardown is
 * registered before each part; the token is revoked at the end.
 */
export async function provisionService(spec: ServiceSpec, options: ProvisionServiceOptions): Promise<PlainService> {
  const { recorder, teardown } = options;
  const database = options.database();
  const { tokenName, token, reader } = await createServiceCredentials({ runId: options.runId, database: options.database, reader: spec.replicas.reader > 0, recorder, teardown });
  let started: PlainService | undefined;
  teardown.push('stop the service processes', async () => {
    await started?.stop();
    // Their logs are artifacts of the run: through the run's Redactor once nothing writes them.
    if (options.logDir) redactFilesUnder(options.logDir, recorder.secrets);
  });
  const service = await PlainService.start(
    {
      runId: options.runId,
      ledger: options.ledger,
      version: spec.version,
      replicas: spec.replicas,
      database,
      ...(reader ? { reader } : {}),
      token,
      tokenName,
      readyTimeoutMs: spec.readyTimeout,
      ...(options.logDir ? { logDir: options.logDir } : {}),
      signal: options.signal,
    },
    (s) => (started = s),
  );
  recorder.journal.components.truststream = spec.version;
  recorder.event('service', `${service.description} against ${database.host}:${database.port}/${database.database}; API token ${tokenName} created${reader ? `, reader role ${reader.role}` : ''}`, {
    instances: service.instances(),
    tokenName,
  });
  return service;
}
