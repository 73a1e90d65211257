import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { sleep } from '../engine/clock.js';
import { DrillError, InputError, StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { queryNow } from '../targets/regions/caching-resolver.js';

const debug = createDebug('drill:recovery');

/**
 * Runbook "Option 3: DNS Failover (Multi-Region)": `aws route53 change-resource-record-sets` with
 * an UPSERT of the service record to the region's API addresses, GetChange until INSYNC, then
 * "Verify DNS propagation" (`dig <name> +short`): query the drill's DNS server (no client cache in
 * the way) until it answers exactly the region's addresses. Clients that resolved the name before
 * the UPSERT keep their answer for the old record's TTL: the output names until when, and the
 * probes measure it. Then the region's database becomes the application database (the writer
 * continues there): what users reach is that region's service, which uses it.
 */
export async function dnsFailover(ctx: DrillContext, step: Extract<RecoveryStep, { step: 'dns-failover' }>): Promise<Record<string, unknown>> {
  const regions = ctx.regions;
  const region = regions.find(step.to);
  if (!region) throw new InputError('REGION_UNKNOWN', `dns-failover names region ${step.to}, which is none of primary, dr, ${regions.primary.name}, ${regions.dr.name}; name one of them`);
  const name = regions.serviceName;
  const before = await regions.zone.readA(name);
  const ttl = step.ttl ?? before?.ttl ?? 60;
  const values = [...region.apiAddresses].sort();
  const start = ctx.clock.now();
  const changeId = await regions.zone.upsertA({ name, values, ttl }, `drill ${ctx.runId}: failover of ${name} to ${region.name}`, ctx.signal).catch(asStepFailure);
  const ackedAt = ctx.clock.now();
  debug('UPSERT %s A %s TTL %d: change %s', name, values.join(','), ttl, changeId);
  await regions.zone.waitInsync(changeId, step.timeout, ctx.signal).catch(asStepFailure);
  const insyncAt = ctx.clock.now();
  let last = 'no answer yet';
  for (;;) {
    try {
      const answer = await queryNow(regions.dnsServer, name);
      if (answer.addresses.join(',') === values.join(',')) break;
      last = answer.addresses.join(', ');
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (ctx.clock.now() - start > step.timeout) {
      throw new StepFailedError('DNS_NOT_PROPAGATED', `the DNS server still answers ${name} with ${last} ${Math.round((ctx.clock.now() - ackedAt) / 1000)} s after the UPSERT to ${region.name} (${values.join(', ')}); check the hosted zone ${regions.zone.id}`);
    }
    await sleep(100, ctx.signal);
  }
  const verifiedAt = ctx.clock.now();
  // The users' application is now the region's service, and so its database: the canary's
  // ledger, integrity and RPO are read there. Not checked to take writes: a failover to a region
  // whose database was never promoted is a mistake the drill must show (the writes fail), not hide.
  const database = region.database;
  const moved = database !== ctx.router.current;
  if (moved) {
    ctx.router.switchTo(database);
    await ctx.writer.retarget();
  }
  return {
    database: { instance: database.name, address: `${database.connection.host}:${database.connection.port}`, ...(moved ? {} : { unchanged: true }) },
    region: region.name,
    record: { name, from: before?.values ?? [], to: values, ttl, previousTtl: before?.ttl },
    changeId,
    upsertAckedMs: ackedAt - start,
    insyncMs: insyncAt - ackedAt,
    verifiedMs: verifiedAt - ackedAt,
    // A client that resolved the name just before the UPSERT may use the old answer until then.
    staleAnswersPossibleForMs: (before?.ttl ?? 0) * 1000,
  };
}

/**
 * Route 53 refusing the change the runbook asks for (InvalidChangeBatch), or never applying it
 * (stuck PENDING), is a failover that did not happen: the step failed (exit 1). Throttling past
 * the retries and an unknown zone stay environment errors (exit 3): the drill could not ask.
 */
const STEP_FAILURES = new Set(['ROUTE53_CHANGE_REJECTED', 'ROUTE53_CHANGE_PENDING']);

function asStepFailure(error: unknown): never {
  if (error instanceof DrillError && STEP_FAILURES.has(error.code)) throw new StepFailedError(error.code, error.message, { cause: error });
  throw error;
}
