import createDebug from 'debug';
import type pg from 'pg';
import type { DrillContext } from '../engine/drill-context.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { lsnDiff, maxLsn, parseLsn } from '../targets/postgres/lsn.js';
import { walEndOf, type WalEnd } from '../targets/postgres/wal-end.js';
import { standbyPosition, type StandbyPosition } from '../targets/postgres/replication-status.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { awaitPrimaryUnreachable } from './await-primary-unreachable.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';
import { waitForPromotion } from './wait-for-promotion.js';
import { adminConnection } from '../targets/postgres/sql-names.js';

const debug = createDebug('drill:recovery');

type PromoteStep = Extract<RecoveryStep, { step: 'promote-replica' }>;

interface Candidate {
  replica: PgInstance;
  position?: StandbyPosition;
  /** The timeline it replays (its last restartpoint's); promotion must fork a later one. */
  timeline?: number;
  error?: string;
}

/** The timeline the server writes on now: the first 8 hex digits of its current WAL file name. */
async function currentTimeline(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ file: string }>('select pg_walfile_name(pg_current_wal_lsn()) as file');
  return Number.parseInt(rows[0]!.file.slice(0, 8), 16);
}


/**
 * Runbook "Primary Database Failure: promote read replica to primary" (`aws rds
 * promote-read-replica`): pg_promote on the named replica, or on the one that has received the
 * most WAL, then wait until it takes writes. It joins the recovered instances so `switch-workload`
 * moves the application to it. Where the old primary's WAL end can be read (its data directory is
 * reachable, server down), the WAL it had and the new primary never got is recorded as walBytesLost.
 */
export async function promoteReplica(ctx: DrillContext, step: PromoteStep): Promise<Record<string, unknown>> {
  // The failover policy's threshold first: the time it waits is in the step, so in the RTO. It
  // gives up inside the step's own budget (before the engine's timeout, so the step can say why),
  // and the promotion gets what is left of the step's timeout.
  if (step.unreachableFor === undefined) return promote(ctx, step);
  const started = ctx.clock.now();
  const unreachable = await awaitPrimaryUnreachable(ctx, step.unreachableFor, waitBudgetMs(step.timeout));
  const left = step.timeout - (ctx.clock.now() - started);
  return { ...(await promote(ctx, { ...step, timeout: waitBudgetMs(left) })), unreachable };
}

async function promote(ctx: DrillContext, step: PromoteStep): Promise<Record<string, unknown>> {
  const candidates = await Promise.all(
    ctx.pg.replicas
      .filter((r) => r !== ctx.router.current)
      .map(async (replica): Promise<Candidate> => {
        try {
          return await withClient(adminConnection(replica), async (c) => ({
            replica,
            position: await standbyPosition(c),
            timeline: (await c.query<{ tli: number }>('select timeline_id as tli from pg_control_checkpoint()')).rows[0]!.tli,
          }), 10_000);
        } catch (error) {
          return { replica, error: error instanceof Error ? error.message : String(error) };
        }
      }),
  );
  const chosen = choose(candidates, step.region === undefined ? step.replica : regionDatabaseName(ctx, step.region));
  const { replica } = chosen;
  const oldPrimary = ctx.router.current;
  const oldRunning = oldPrimary.localProcesses ? oldPrimary.localProcesses.serving() : await oldPrimary.isRunning().catch(() => false);
  const oldPrimaryEnd = oldRunning ? undefined : await oldPrimaryWalEnd(oldPrimary, chosen.position.replayLsn ?? undefined);
  if (oldRunning) {
    ctx.recorder.event('split-brain-risk', `${oldPrimary.name} still runs while ${replica.name} is promoted: fence it (fence-old-primary)`);
  }

  // From this instant the replica may take writes: split-brain writes are counted from here (rpo.ts).
  const promoteSentAt = ctx.clock.now();
  const promoted = await withClient(adminConnection(replica), async (c) => {
    const waitSeconds = Math.max(1, Math.floor(step.timeout / 1000));
    return (await c.query<{ ok: boolean }>('select pg_promote(true, $1) as ok', [waitSeconds])).rows[0]!.ok;
  }, step.timeout + 5000);
  if (!promoted) throw new StepFailedError('PROMOTION_FAILED', `pg_promote on ${replica.name} did not complete: ${await logOf(replica)}`);
  const { lsn } = await waitForPromotion(replica, step.timeout, ctx.signal);
  // After promotion pg_last_wal_replay_lsn() stays at the end of the WAL replayed: the fork point.
  const after = await withClient(adminConnection(replica), standbyPosition);
  const timeline = await withClient(adminConnection(replica), currentTimeline);
  if (timeline <= chosen.timeline) {
    throw new StepFailedError('PROMOTION_NO_NEW_TIMELINE', `${replica.name} left recovery but is still on timeline ${timeline}: ${await logOf(replica)}`);
  }
  const forkLsn = maxLsn(after.replayLsn, chosen.position?.replayLsn) ?? lsn;
  await withClient(adminConnection(replica), (c) =>
    c.query('begin; create temporary table drill_promote_probe(x int) on commit drop; insert into drill_promote_probe values (1); commit'),
  ).catch((error: unknown) => {
    throw new StepFailedError('PROMOTED_NOT_WRITABLE', `${replica.name} left recovery but does not accept writes: ${String(error)}`);
  });
  ctx.recoveredInstances.push(replica);
  // The instant a second primary exists (RPO names writes the old one acknowledged after it: split-brain).
  ctx.recorder.event('promoted', `${replica.name} promoted (timeline ${timeline}) and takes writes`, { replica: replica.name, timeline, oldPrimary: oldPrimary.name, oldPrimaryRunning: oldRunning, promoteSentAt });

  const output: Record<string, unknown> = {
    replica: replica.name,
    chosenBy: step.region !== undefined ? `the database of region ${step.region}` : step.replica ? 'named in the scenario' : 'most WAL received',
    candidates: candidates.map(({ replica: r, position, error }) =>
      position ? { name: r.name, inRecovery: position.inRecovery, receiveLsn: position.receiveLsn, replayLsn: position.replayLsn } : { name: r.name, error },
    ),
    oldPrimary: oldPrimary.name,
    forkLsn,
    promotedAtLsn: lsn,
    timeline: { before: chosen.timeline, after: timeline },
  };
  if (oldPrimaryEnd) {
    const walBytesLost = Math.max(0, lsnDiff(oldPrimaryEnd.lsn, forkLsn));
    ctx.recorder.journal.measurements.walBytesLost = walBytesLost;
    Object.assign(output, { oldPrimaryWalEnd: oldPrimaryEnd.lsn, oldPrimaryLastRecord: oldPrimaryEnd.lastRecord, walBytesLost });
    ctx.recorder.event(
      'wal-lost',
      walBytesLost === 0
        ? `${replica.name} has all of ${oldPrimary.name}'s WAL (up to ${oldPrimaryEnd.lsn})`
        : `${walBytesLost} bytes of ${oldPrimary.name}'s WAL (${forkLsn}..${oldPrimaryEnd.lsn}) never reached ${replica.name}`,
      { oldPrimaryWalEnd: oldPrimaryEnd.lsn, forkLsn, walBytesLost },
    );
  } else {
    output.oldPrimaryWalEnd = 'unknown (the old primary is running, or its data directory is out of reach)';
  }
  debug('promoted %s at %s (timeline %d)', replica.name, lsn, timeline);
  return output;
}

/** The replica that is `ref`'s region's database (runbook: "promote the DR replica"). */
function regionDatabaseName(ctx: DrillContext, ref: string): string {
  const region = ctx.regions.find(ref);
  if (!region) throw new InputError('REGION_UNKNOWN', `promote-replica names region ${ref}, which is none of primary, dr, ${ctx.regions.primary.name}, ${ctx.regions.dr.name}; name one of them`);
  return region.database.name;
}

type Usable = Candidate & { position: StandbyPosition; timeline: number };

function choose(candidates: Candidate[], name: string | undefined): Usable {
  const usable = candidates.filter((c): c is Usable => c.position?.inRecovery === true && c.timeline !== undefined);
  if (name !== undefined) {
    const named = candidates.find((c) => c.replica.name === name);
    if (!named) {
      throw new StepFailedError(
        'NO_SUCH_REPLICA',
        `promote-replica: there is no replica "${name}" (replicas: ${candidates.map((c) => c.replica.name).join(', ') || 'none'})`,
      );
    }
    if (!named.position?.inRecovery) {
      throw new StepFailedError('REPLICA_NOT_PROMOTABLE', `promote-replica: ${name} is not a standby it can promote (${named.error ?? 'not in recovery'})`);
    }
    return named as Usable;
  }
  if (usable.length === 0) {
    throw new StepFailedError(
      'NO_REPLICA',
      candidates.length === 0
        ? 'promote-replica needs a streaming replica; set targets.postgres.replicas: 1 or more'
        : `promote-replica: no replica is a reachable standby (${candidates.map((c) => `${c.replica.name}: ${c.error ?? 'not in recovery'}`).join('; ')})`,
    );
  }
  // The most WAL received wins: promotion replays everything received, so it loses the least.
  const reach = (c: { position: StandbyPosition }) => parseLsn(maxLsn(c.position.receiveLsn, c.position.replayLsn) ?? '0/0');
  return usable.reduce((best, c) => (reach(c) > reach(best) ? c : best));
}

/** The end of the failed primary's WAL, read offline when it is down and its data directory is reachable. */
async function oldPrimaryWalEnd(oldPrimary: PgInstance, from: string | undefined): Promise<WalEnd | undefined> {
  if (!oldPrimary.dataDirectory) return undefined;
  try {
    return await walEndOf(oldPrimary.dataDirectory, from);
  } catch (error) {
    debug('could not read the WAL end of %s: %s', oldPrimary.name, String(error));
    return undefined;
  }
}

async function logOf(instance: PgInstance): Promise<string> {
  return instance.logTail ? await instance.logTail(8) : '(server log out of reach)';
}
