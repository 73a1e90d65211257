import type { Scenario } from '../scenario/schema.js';
import type { DatabaseRouter } from '../workload/database-router.js';
import { HttpProbe } from '../workload/probes/http-probe.js';
import type { ProbeCheck } from '../workload/probes/probe.js';
import { SqlProbe } from '../workload/probes/sql-probe.js';

export function buildProbes(scenario: Scenario, router: DatabaseRouter): ProbeCheck[] {
  return scenario.workload.probes.map((p) =>
    p.type === 'sql'
      ? new SqlProbe(p.name, p.query, router, p.interval, p.timeout, p.service)
      : new HttpProbe(p.name, p.url, p.expectStatus, p.interval, p.timeout, p.service),
  );
}
