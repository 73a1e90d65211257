import type { DestinationStream } from 'pino';
import type { ServiceConfig } from './config.js';
import { createPool } from './database.js';
import { startHttpServer } from './http/server.js';
import type { Route } from './http/types.js';
import type { JobLoop } from './jobs/job-loop.js';
import { startScheduler } from './jobs/scheduler.js';
import { startWorker } from './jobs/worker.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { apiRoutes } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import type { ServiceDeps } from './service-deps.js';

export interface RunningService {
  readonly config: ServiceConfig;
  readonly port: number;
  readonly logger: Logger;
  /** Graceful: /health turns 503, no new connections, requests in flight and the job's current run finish, the pool closes. */
  stop(graceMs?: number): Promise<void>;
}

/** A release whose start-up fails by design (the catalogue's crash-loop version). */
export class StartupDefectError extends Error {
  constructor(version: string, defect: string) {
    super(`release ${version} failed to start: ${defect}`);
    this.name = 'StartupDefectError';
  }
}

/**
 * Starts one TrustStram process of the configured mode: every mode serves /livez, /health and
 * /metrics; api adds the API, reader its read half, worker and scheduler run their job.
 */
export async function startService(config: ServiceConfig, options: { logDestination?: DestinationStream } = {}): Promise<RunningService> {
  const logger = createLogger(
    config.logLevel,
    { mode: config.mode, version: config.release.version, colour: config.colour, region: config.region, instance: config.instance },
    options.logDestination,
  );
  if (config.release.startupDefect) throw new StartupDefectError(config.release.version, config.release.startupDefect);
  const metrics = createMetrics(config);
  const pool = createPool(config, logger, metrics);
  const deps: ServiceDeps = { config, pool, metrics, logger, state: { shuttingDown: false } };
  const routes: Route[] = [...healthRoutes(deps), metricsRoute(deps), ...(config.mode === 'api' || config.mode === 'reader' ? apiRoutes(deps) : [])];
  let http;
  try {
    http = await startHttpServer({ routes, bind: config.bind, port: config.port, logger, metrics, addedLatencyMs: config.release.addedLatencyMs });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const job: JobLoop | undefined = config.mode === 'worker' ? startWorker(deps) : config.mode === 'scheduler' ? startScheduler(deps) : undefined;
  logger.info({ bind: config.bind, port: http.port, readOnly: config.readOnly, expectedSchemaVersion: config.release.expectedSchemaVersion }, 'listening');

  let stopping: Promise<void> | undefined;
  const running = http;
  return {
    config,
    port: http.port,
    logger,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        deps.state.shuttingDown = true;
        logger.info({ graceMs }, 'shutting down: draining requests');
        await job?.stop();
        await running.close(graceMs);
        await pool.end();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
