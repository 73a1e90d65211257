import type { Scenario } from '../scenario/schema.js';
import type { DrillContext } from './drill-context.js';
import { ErrorRateProbe } from '../workload/probes/error-rate-probe.js';
import { HttpProbe } from '../workload/probes/http-probe.js';
import { K8sReadyProbe } from '../workload/probes/k8s-ready-probe.js';
import type { ProbeCheck } from '../workload/probes/probe.js';
import { ServiceHttpProbe } from '../workload/probes/service-http-probe.js';
import { SqlProbe } from '../workload/probes/sql-probe.js';

/**
 * A SQL probe reaches the database through the router, so it follows a switch to a recovered
 * instance; an http probe with `target: service` reaches the service's current endpoints.
 */
export function buildProbes(scenario: Scenario, ctx: DrillContext): ProbeCheck[] {
  return scenario.workload.probes.map((p) => {
    if (p.type === 'sql') return new SqlProbe(p.name, p.query, ctx.router, p.interval, p.timeout, p.service);
    if (p.type === 'error-rate') return new ErrorRateProbe(p.name, ctx.service, p.max, p.minRequests, p.interval, p.timeout, p.service);
    if (p.type === 'http') {
      // Exactly one of url/target: checked when the scenario is loaded (src/scenario/service-rules.ts).
      if (p.target === 'service') {
        const service = ctx.service;
        return new ServiceHttpProbe(
          p.name,
          service,
          p.component ?? 'api',
          p.path ?? '/health',
          p.expectStatus,
          p.interval,
          p.timeout,
          p.service,
          () => service.token,
          p.maxClockSkew,
        );
      }
      return new HttpProbe(p.name, p.url!, p.expectStatus, p.interval, p.timeout, p.service, p.maxClockSkew);
    }
    // Exactly one of deployment/endpoints: checked when the scenario is loaded (src/scenario/kubernetes-rules.ts).
    const target = p.deployment ? { deployment: p.deployment } : { endpoints: p.endpoints! };
    return new K8sReadyProbe(p.name, () => ctx.k8s, target, p.min, p.interval, p.timeout, p.service);
  });
}
