import type { DrillContext } from '../engine/drill-context.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { adminConnection } from '../targets/postgres/sql-names.js';
import { withClient } from '../targets/postgres/with-client.js';
import { describeStatus, httpStatus } from '../targets/regions/http-status.js';
import { RegionalService } from '../targets/regions/regional-service.js';
import { runSmoke } from './smoke.js';

type VerifyDrStep = Extract<RecoveryStep, { step: 'verify-dr' }>;

/**
 * Runbook Scenario 1 "Verification Steps", against the DR region itself (its processes by address,
 * not the service name, so a DNS answer still pointing elsewhere cannot make it pass or fail):
 * - "Check DR site health" (`curl -f https://dr.../health`): every DR API process answers 200;
 * - "Verify database connectivity" (`verify-dr-database.sh`): the DR database is out of recovery
 *   and commits a write (a replica never promoted refuses it: that is what this catches);
 * - "Test application functionality" (`functional-test-suite.sh --environment dr`): the smoke
 *   suite (health, read, a transfer journey, the worker) against the DR region's processes.
 * Every check runs; the step fails naming each that did not pass.
 */
export async function verifyDr(ctx: DrillContext, step: VerifyDrStep): Promise<Record<string, unknown>> {
  const dr = ctx.regions.find(step.drRegion);
  if (!dr) throw new InputError('REGION_UNKNOWN', `verify-dr drRegion: ${step.drRegion} is none of primary, dr, ${ctx.regions.primary.name}, ${ctx.regions.dr.name}; name one of them`);
  const failures: string[] = [];

  const health = await Promise.all(dr.apiAddresses.map(async (host) => ({ host, result: await httpStatus(host, ctx.regions.port, '/health', step.requestTimeout) })));
  for (const { host, result } of health) if (!('status' in result) || result.status !== 200) failures.push(`site health: ${host} /health ${describeStatus(result)}`);

  let database: Record<string, unknown>;
  try {
    database = await withClient(adminConnection(dr.database), async (c) => {
      const inRecovery = (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r;
      if (inRecovery) throw new Error(`${dr.database.name} is still in recovery (a read-only replica): promote it first`);
      await c.query('begin; create temporary table drill_verify_dr(x int) on commit drop; insert into drill_verify_dr values (1); commit');
      return { instance: dr.database.name, inRecovery, writeCommitted: true };
    }, step.requestTimeout * 2);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    database = { instance: dr.database.name, error: message };
    failures.push(`database connectivity: ${message}`);
  }

  const service = ctx.service instanceof RegionalService ? ctx.service.regionService(dr.name) : undefined;
  if (!service) throw new InputError('REGION_SERVICE_MISSING', `verify-dr: the region ${dr.name} runs no service of the drill's; verify-dr needs targets.regions`);
  // The same context with the DR region's own processes as "the service": the functional suite by address.
  const drContext = Object.create(ctx, { service: { value: service } }) as DrillContext;
  const smoke = await runSmoke(drContext, { step: 'smoke', workerWithin: step.workerWithin, requestTimeout: step.requestTimeout, timeout: step.timeout } as Extract<RecoveryStep, { step: 'smoke' }>, 'recover');
  for (const c of smoke.checks) if (c.status === 'failed') failures.push(`functional suite ${c.name}: ${c.error}`);

  if (failures.length) throw new StepFailedError('DR_NOT_VERIFIED', `the DR region ${dr.name} failed verification: ${failures.join('; ')}`);
  return {
    drRegion: dr.name,
    health: Object.fromEntries(health.map(({ host, result }) => [host, describeStatus(result)])),
    database,
    functional: smoke.checks.map((c) => ({ name: c.name, status: c.status, ms: c.ms })),
  };
}
