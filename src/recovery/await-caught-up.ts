import createDebug from 'debug';
import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { parseLsn } from '../targets/postgres/lsn.js';
import { replicaLag, type ReplicaLag } from '../targets/postgres/replica-lag.js';
import { standbyPosition } from '../targets/postgres/replication-status.js';
import { adminConnection } from '../targets/postgres/sql-names.js';
import { withClient } from '../targets/postgres/with-client.js';

const debug = createDebug('drill:recovery');

/**
 * Once the replication link is healed, every replica still a standby must catch up: replay up to
 * the WAL position the primary had right after the heal (read then: `target`). Lag is 0 against
 * that position; the application may go on writing, so the primary is a little ahead again by the
 * time it is read. Journals the backlog at the heal, how long the replay took (measurement
 * replicationCatchUpMs: the slowest replica) and fails the step if the timeout passes first.
 */
export async function awaitCaughtUp(ctx: DrillContext, timeoutMs: number): Promise<Array<Record<string, unknown>>> {
  const { pg } = ctx;
  const started = ctx.clock.now();
  const results: Array<Record<string, unknown>> = [];
  for (const replica of pg.replicas) {
    // A replica promoted already (a failover during the outage) has nothing to catch up to, and the
    // primary it streamed from may be gone: it is not read then.
    if (!(await withClient(adminConnection(replica), standbyPosition)).inRecovery) {
      results.push({ replica: replica.name, skipped: 'promoted: no longer a standby' });
      continue;
    }
    const atHeal: ReplicaLag = await replicaLag(pg.primary, replica);
    const target = parseLsn(atHeal.primaryLsn);
    let replayLsn = atHeal.replayLsn;
    while (replayLsn === null || parseLsn(replayLsn) < target) {
      if (ctx.clock.now() - started > timeoutMs) {
        throw new StepFailedError(
          'REPLICA_NOT_CAUGHT_UP',
          `${replica.name} replayed up to ${replayLsn ?? 'nothing'} within ${timeoutMs} ms of the replication link's heal, short of ${atHeal.primaryLsn} ` +
            `(it was ${atHeal.replayBytesBehind} bytes behind); is its WAL receiver running? ${replica.logTail ? await replica.logTail(6) : ''}`,
        );
      }
      await sleep(100, ctx.signal);
      replayLsn = (await withClient(adminConnection(replica), standbyPosition)).replayLsn;
    }
    const caughtUpMs = Math.round(ctx.clock.now() - started);
    const after = await replicaLag(pg.primary, replica);
    const m = ctx.recorder.journal.measurements;
    m.replicationCatchUpMs = Math.max(m.replicationCatchUpMs ?? 0, caughtUpMs);
    const result = {
      replica: replica.name,
      bytesBehindAtHeal: atHeal.replayBytesBehind,
      primaryLsnAtHeal: atHeal.primaryLsn,
      replayedTo: replayLsn,
      caughtUpMs,
      // The primary went on writing meanwhile: how far behind it is now (streaming again, small).
      bytesBehindNow: after.replayBytesBehind,
    };
    ctx.recorder.event('replica-caught-up', `${replica.name} replayed the ${atHeal.replayBytesBehind} bytes it was behind in ${caughtUpMs} ms`, result);
    debug('%s caught up: %o', replica.name, result);
    results.push(result);
  }
  return results;
}
