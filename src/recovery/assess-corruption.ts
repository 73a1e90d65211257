import type { DrillContext } from '../engine/drill-context.js';
import { runAmcheck } from '../workload/amcheck.js';
import { withClient } from '../targets/postgres/with-client.js';

/**
 * Runbook "Identify corruption extent": amcheck over the database the application uses now,
 * naming each damaged relation and block. It assesses; it does not judge or repair.
 */
export async function assessCorruption(ctx: DrillContext): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  const findings = await withClient(ctx.router.connection, (c) => runAmcheck(c), 120_000);
  const relations = [...new Set(findings.map((f) => f.relation))];
  ctx.recorder.event(
    'corruption-extent',
    findings.length === 0
      ? `amcheck found no corruption on ${instance.name}`
      : `amcheck found ${findings.length} problem(s) in ${relations.join(', ')} on ${instance.name}`,
    { findings },
  );
  return { instance: instance.name, relations, findings };
}
