import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceConfig } from './config.js';

export interface ServiceMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'method' | 'route'>;
  databaseErrors: Counter<'operation'>;
  readOnly: Gauge;
  queueProcessed: Counter<'outcome'>;
  queuePending: Gauge;
  queueStaleMarked: Counter;
  schedulerRuns: Counter<'result'>;
}

/**
 * The service's Prometheus metrics, in a registry of its own (so two services in one test process
 * do not share counters). Names follow Prometheus conventions: `_total` counters, `_seconds`.
 */
export function createMetrics(config: ServiceConfig): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'truststream_' });
  const registers = [registry];
  const buildInfo = new Gauge({
    name: 'truststream_build_info',
    help: 'The running release: version, colour, region and mode as labels, value 1',
    labelNames: ['version', 'colour', 'region', 'mode'],
    registers,
  });
  buildInfo.set({ version: config.release.version, colour: config.colour, region: config.region, mode: config.mode }, 1);
  const readOnly = new Gauge({ name: 'truststream_read_only', help: '1 when writes are refused (READ_ONLY_MODE or reader mode)', registers });
  readOnly.set(config.readOnly || config.mode === 'reader' ? 1 : 0);
  return {
    registry,
    requests: new Counter({ name: 'truststream_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers }),
    latency: new Histogram({
      name: 'truststream_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10],
      registers,
    }),
    databaseErrors: new Counter({ name: 'truststream_database_errors_total', help: 'Database operations that failed', labelNames: ['operation'], registers }),
    readOnly,
    queueProcessed: new Counter({ name: 'truststream_queue_processed_total', help: 'Queue items the worker processed, by outcome', labelNames: ['outcome'], registers }),
    queuePending: new Gauge({ name: 'truststream_queue_pending', help: 'Unprocessed queue items at the scheduler\'s last run', registers }),
    queueStaleMarked: new Counter({ name: 'truststream_queue_stale_marked_total', help: 'Queue items the scheduler marked stale (unprocessed for 30 s)', registers }),
    schedulerRuns: new Counter({ name: 'truststream_scheduler_runs_total', help: 'Scheduler runs by result', labelNames: ['result'], registers }),
  };
}
