import type { Route } from '../http/types.js';
import type { ServiceDeps } from '../service-deps.js';

/** GET /metrics: Prometheus text exposition of the service's registry. */
export function metricsRoute(deps: ServiceDeps): Route {
  return {
    method: 'GET',
    pattern: '/metrics',
    infrastructure: true,
    handler: async () => ({ status: 200, text: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType }),
  };
}
