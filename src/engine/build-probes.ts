import type { Scenario } from '../scenario/schema.js';
import type { DrillContext } from './drill-context.js';
import { HttpProbe } from '../workload/probes/http-probe.js';
import type { ProbeCheck } from '../workload/probes/probe.js';
import { SqlProbe } from '../workload/probes/sql-probe.js';

/** A SQL probe reaches the database through the router, so it follows a switch to a recovered instance. */
export function buildProbes(scenario: Scenario, ctx: DrillContext): ProbeCheck[] {
  return scenario.workload.probes.map((p) =>
    p.type === 'sql'
      ? new SqlProbe(p.name, p.query, ctx.router, p.interval, p.timeout, p.service)
      : new HttpProbe(p.name, p.url, p.expectStatus, p.interval, p.timeout, p.service),
  );
}
