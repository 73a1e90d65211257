import type pg from 'pg';
import type { ServiceConfig } from './config.js';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';

/** What every part of a running service shares. */
export interface ServiceDeps {
  config: ServiceConfig;
  pool: pg.Pool;
  metrics: ServiceMetrics;
  logger: Logger;
  /** Set once SIGTERM arrived: /health answers 503 so load balancers stop sending traffic. */
  state: { shuttingDown: boolean };
}
