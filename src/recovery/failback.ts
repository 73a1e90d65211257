import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { sleep } from '../engine/clock.js';
import { DrillError, EnvironmentError, InputError, StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { lsnDiff, parseLsn } from '../targets/postgres/lsn.js';
import { currentWalLsn, standbyPosition } from '../targets/postgres/replication-status.js';
import { adminConnection } from '../targets/postgres/sql-names.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { queryNow } from '../targets/regions/caching-resolver.js';
import { describeStatus, httpStatus } from '../targets/regions/http-status.js';
import type { Region } from '../targets/regions/types.js';
import { dnsFailover } from './dns-failover.js';
import { fenceWrites, type FenceResult } from './fence-dr-writes.js';
import { verifyWritesRefused, type FenceVerification } from './verify-fence.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';
import { waitForPromotion } from './wait-for-promotion.js';

const debug = createDebug('drill:recovery');

type FailbackStep = Extract<RecoveryStep, { step: 'failback' }>;

/** Whether a standby that replayed up to `replayLsn` has everything up to `target`. */
export function replayReached(replayLsn: string | null, target: string): boolean {
  return replayLsn !== null && parseLsn(replayLsn) >= parseLsn(target);
}

/**
 * Failback (runbook: "optional, for game days"): once the DR region serves, the lost primary region
 * is brought back and the service switched back to it with nothing acknowledged lost.
 * 1. Its PostgreSQL is rebuilt as a streaming replica of the DR primary (a fresh base backup into
 *    its own data directory: `rebuildAsReplica`, native-replica.ts says why not pg_rewind) and
 *    replays up to the DR primary's position;
 * 2. its service processes start again on the region's own addresses against it (a warm standby
 *    region, as the DR region was at the start: reads answer, writes wait for the promotion);
 * 3. the controlled switchover: writes stopped on the DR side (fence-dr-writes.ts: read-only, the
 *    transactions begun before drained, every other client session ended so it reconnects under
 *    the fence; verify-fence.ts: a new session's write must be refused with 25006, else the step
 *    fails with DR_FENCE_NOT_HOLDING before anything is promoted), the rebuilt primary replays up to the DR primary's final
 *    position, is promoted, becomes the application database and the record is UPSERTed back to
 *    the primary region through dns-failover's Route 53 path (propagation verified);
 * 4. postcondition: the primary region's database commits a write, every primary API process
 *    answers /health 200, and DNS answers the primary region's addresses.
 * `fenceDr: false` skips the fence: the switch happens while the DR primary takes writes, so the
 * rebuilt primary is behind the moment it is promoted (the negative control; RPO names the loss).
 */
export async function failback(ctx: DrillContext, step: FailbackStep): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'failback');
  const regions = ctx.regions;
  const home = regionOf(ctx, step.primaryRegion, 'primaryRegion');
  const dr = regionOf(ctx, step.drRegion, 'drRegion');
  if (home === dr) throw new InputError('REGION_SAME', `failback names ${dr.name} as both the primary and the DR region; name two different regions`);
  if (regions.routing !== 'simple') {
    throw new InputError('FAILBACK_NEEDS_SIMPLE_ROUTING', 'failback UPSERTs the service record back (simple routing); with targets.regions.dns.failover the health checks own the answer: remove dns.failover');
  }
  const rebuild = ctx.pg.rebuildAsReplica?.bind(ctx.pg);
  if (!rebuild) throw new EnvironmentError('FAILBACK_NEEDS_NATIVE', `failback rebuilds ${home.database.name} on this machine; the ${ctx.pg.provider} provider cannot: use targets.postgres.provider: native`);
  const start = ctx.clock.now();
  const deadline = start + waitBudgetMs(step.timeout);
  const left = () => Math.max(1_000, deadline - ctx.clock.now());

  await requireServingDr(dr);
  const leftovers = home.processes.liveInstances();
  if (leftovers.length > 0) {
    throw new StepFailedError('FAILBACK_REGION_STILL_RUNNING', `${home.name} still runs ${leftovers.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}: failback brings back a lost region; fence it first`);
  }

  // 1. The old primary's database rebuilt as a replica of the DR primary, caught up.
  const rebuilt = await rebuild(home.database, dr.database).catch((error: unknown) => {
    // What this machine or deployment cannot do stays an environment error (exit 3); a rebuild that was tried and did not work is the step's failure.
    if (error instanceof DrillError && error.code.startsWith('REBUILD_')) throw error;
    throw new StepFailedError('FAILBACK_REBUILD_FAILED', `${home.database.name} could not be rebuilt as a replica of ${dr.database.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  const rebuiltAt = ctx.clock.now();
  ctx.recorder.event('failback-rebuilt', `${home.database.name} rebuilt as a streaming replica of ${dr.database.name} (${home.name} from ${dr.name})`, { instance: home.database.name, upstream: dr.database.name, ...rebuilt });
  const initialTarget = await withClient(adminConnection(dr.database), currentWalLsn);
  const initialCatchUp = await awaitReplay(ctx, home.database, initialTarget, Math.min(step.catchUpTimeout, left()));

  // 2. The region's service back on its own addresses, against its (standby) database.
  const service = await home.processes.restart({ signal: ctx.signal });
  const serviceAt = ctx.clock.now();

  // 3. Controlled switchover.
  let fence: FenceResult | undefined;
  let fenceVerified: FenceVerification | undefined;
  let switchTarget: string;
  if (step.fenceDr) {
    fence = await fenceWrites(dr.database, Math.min(5_000, left()), ctx.signal);
    switchTarget = fence.lsn;
    ctx.recorder.event(
      'dr-writes-fenced',
      `${dr.database.name} read-only for new transactions at ${fence.lsn} (${fence.drained} open transactions drained, ${fence.terminated.length} terminated, ${fence.disconnected.length} other client sessions ended to reconnect under the fence)`,
      { ...fence },
    );
    // The fence is a default a session can override: held only if a new session's write is refused.
    // Not refused: the step fails here (DR_FENCE_NOT_HOLDING), before anything is promoted.
    fenceVerified = await verifyWritesRefused(dr.database);
    ctx.recorder.event('dr-fence-verified', `a new session's write on ${dr.database.name} was refused (${fenceVerified.sqlstate} read_only_sql_transaction: ${fenceVerified.refusal})`, { ...fenceVerified });
  } else {
    switchTarget = await withClient(adminConnection(dr.database), currentWalLsn);
    ctx.recorder.event('dr-writes-not-fenced', `${dr.database.name} still takes writes while ${home.database.name} is promoted (fenceDr: false): anything it acknowledges from now on is not in the promoted primary`, { lsn: switchTarget });
  }
  const fencedAt = ctx.clock.now();
  const finalCatchUp = step.fenceDr ? await awaitReplay(ctx, home.database, switchTarget, Math.min(step.catchUpTimeout, left())) : { skipped: 'fenceDr: false' };
  const promotion = await promote(ctx, home.database, left());
  const promotedAt = ctx.clock.now();

  // 4. The record back to the primary region (Route 53 UPSERT, INSYNC, answer verified); dns-failover also makes the region's database the application's.
  const dns = await dnsFailover(ctx, { step: 'dns-failover', to: home.name, ...(step.ttl !== undefined ? { ttl: step.ttl } : {}), timeout: left() } as Extract<RecoveryStep, { step: 'dns-failover' }>);
  const dnsAt = ctx.clock.now();
  // 5. Clients move when their cached answer expires: until then a client holding the DR answer
  // reaches the fenced (read-only) DR region. The switchover ends once no cache can hold it.
  const staleMs = Math.min(Number(dns.staleAnswersPossibleForMs ?? 0), left());
  if (staleMs > 0) await sleep(staleMs, ctx.signal);

  const postcondition = await checkServing(ctx, home, step);
  const output: Record<string, unknown> = {
    primaryRegion: home.name,
    drRegion: dr.name,
    rebuild: { instance: home.database.name, upstream: dr.database.name, ...rebuilt, caughtUp: initialCatchUp },
    service,
    switchover: {
      fence: fence ?? 'none (fenceDr: false): the DR primary kept taking writes',
      ...(fenceVerified ? { fenceVerified } : {}),
      target: switchTarget,
      caughtUp: finalCatchUp,
      promotion,
    },
    dns,
    postcondition,
    rebuildMs: Math.round(rebuiltAt - start),
    serviceMs: Math.round(serviceAt - rebuiltAt),
    fenceMs: Math.round(fencedAt - serviceAt),
    promoteMs: Math.round(promotedAt - fencedAt),
    dnsMs: Math.round(dnsAt - promotedAt),
    staleAnswersWaitedMs: Math.round(staleMs),
  };
  debug('failback to %s: %o', home.name, output);
  return output;
}

function regionOf(ctx: DrillContext, ref: string, key: string): Region {
  const region = ctx.regions.find(ref);
  if (!region) throw new InputError('REGION_UNKNOWN', `failback ${key}: ${ref} is none of primary, dr, ${ctx.regions.primary.name}, ${ctx.regions.dr.name}; name one of them`);
  return region;
}

/** Failback hands back from a DR region that serves: its database promoted (activate-dr-site or promote-replica first). */
async function requireServingDr(dr: Region): Promise<void> {
  const inRecovery = await withClient(adminConnection(dr.database), async (c) => (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r).catch((error: unknown) => {
    throw new StepFailedError('FAILBACK_DR_UNREACHABLE', `the DR database ${dr.database.name} does not answer: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (inRecovery) throw new StepFailedError('FAILBACK_DR_NOT_PRIMARY', `the DR database ${dr.database.name} is still a standby: there is nothing to fail back from; activate the DR site first (activate-dr-site)`);
}

/** Polls the standby until it has replayed `target`; the time it took and how far behind it was are returned. */
async function awaitReplay(ctx: DrillContext, replica: PgInstance, target: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const started = ctx.clock.now();
  let first: string | null | undefined;
  for (;;) {
    const position = await withClient(adminConnection(replica), standbyPosition);
    if (first === undefined) first = position.replayLsn;
    if (replayReached(position.replayLsn, target)) {
      return { target, replayedTo: position.replayLsn, bytesBehind: first === null ? null : Math.max(0, lsnDiff(target, first)), ms: Math.round(ctx.clock.now() - started) };
    }
    if (ctx.clock.now() - started > timeoutMs) {
      throw new StepFailedError(
        'FAILBACK_NOT_CAUGHT_UP',
        `${replica.name} replayed up to ${position.replayLsn ?? 'nothing'} within ${timeoutMs} ms, short of the DR primary's ${target}; is its WAL receiver running? ${replica.logTail ? await replica.logTail(6) : ''}`,
      );
    }
    await sleep(100, ctx.signal);
  }
}

/** pg_promote on the rebuilt primary, then the check that it commits a write. */
async function promote(ctx: DrillContext, instance: PgInstance, timeoutMs: number): Promise<Record<string, unknown>> {
  const promoteSentAt = ctx.clock.now();
  const ok = await withClient(adminConnection(instance), async (c) => (await c.query<{ ok: boolean }>('select pg_promote(true, $1) as ok', [Math.max(1, Math.floor(timeoutMs / 1000))])).rows[0]!.ok, timeoutMs + 5_000);
  if (!ok) throw new StepFailedError('PROMOTION_FAILED', `pg_promote on ${instance.name} did not complete: ${instance.logTail ? await instance.logTail(8) : ''}`);
  const { lsn } = await waitForPromotion(instance, timeoutMs, ctx.signal);
  // The timeline it writes on now (its WAL file name): pg_control_checkpoint() still says the old
  // one until the end-of-recovery checkpoint is done.
  const timeline = await withClient(adminConnection(instance), async (c) => Number.parseInt((await c.query<{ f: string }>('select pg_walfile_name(pg_current_wal_lsn()) as f')).rows[0]!.f.slice(0, 8), 16));
  // Not a `promoted` event: that one marks the first second primary (the DR's), from which RPO names split-brain writes.
  ctx.recorder.event('failback-promoted', `${instance.name} promoted back to primary (timeline ${timeline})`, { instance: instance.name, lsn, timeline, promoteSentAt });
  return { instance: instance.name, lsn, timeline };
}

/** The postcondition: the primary region takes writes and is what the name resolves to. */
async function checkServing(ctx: DrillContext, home: Region, step: FailbackStep): Promise<Record<string, unknown>> {
  const failures: string[] = [];
  const database = await withClient(adminConnection(home.database), async (c) => {
    const inRecovery = (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r;
    await c.query('begin; create temporary table drill_failback_probe(x int) on commit drop; insert into drill_failback_probe values (1); commit');
    return { instance: home.database.name, inRecovery, writeCommitted: true };
  }).catch((error: unknown) => {
    failures.push(`database: ${error instanceof Error ? error.message : String(error)}`);
    return { instance: home.database.name, error: String(error) };
  });
  const health = await Promise.all(home.apiAddresses.map(async (host) => ({ host, result: await httpStatus(host, ctx.regions.port, '/health', 5_000) })));
  for (const { host, result } of health) if (!('status' in result) || result.status !== 200) failures.push(`${host} /health ${describeStatus(result)}`);
  const wanted = [...home.apiAddresses].sort().join(',');
  const answer = (await queryNow(ctx.regions.dnsServer, ctx.regions.serviceName)).addresses.join(',');
  if (answer !== wanted) failures.push(`DNS answers ${ctx.regions.serviceName} with ${answer}, not ${wanted}`);
  if (failures.length) throw new StepFailedError('FAILBACK_NOT_SERVING', `after failback ${home.name} does not serve: ${failures.join('; ')} (${step.primaryRegion})`);
  return { database, health: Object.fromEntries(health.map(({ host, result }) => [host, describeStatus(result)])), dns: answer.split(',') };
}
