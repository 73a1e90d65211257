import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { FENCE_DESCRIPTION, fenceAsStandby } from '../targets/postgres/fence.js';
import { standbyPosition } from '../targets/postgres/replication-status.js';
import { withClient } from '../targets/postgres/with-client.js';

const debug = createDebug('drill:recovery');

/**
 * After a failover the failed primary must never take writes again (two writable primaries are
 * split-brain). It is stopped if it runs (STONITH), its data directory fenced as a standby with
 * no upstream, and then the postcondition is proven the hard way: it is started as anyone might
 * restart it, must come up in recovery and refuse a write, and is stopped again.
 */
export async function fenceOldPrimary(ctx: DrillContext): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'fence-old-primary');
  const old = ctx.pg.primary;
  // Fencing the database the application uses stops the service, unless a network partition has
  // cut the application off it already: then fencing first (before promote-replica) is the
  // runbook's way to keep a second writable primary from ever existing.
  const partitions = old === ctx.router.current ? await partitionsOfLink(ctx) : [];
  if (old === ctx.router.current && partitions.length === 0) {
    throw new StepFailedError(
      'FENCE_WOULD_STOP_SERVICE',
      `the application still uses ${old.name}; put promote-replica and switch-workload before fence-old-primary (or fence first while a network-partition cuts the application off it)`,
    );
  }
  const directory = old.dataDirectory;
  if (!directory) {
    throw new EnvironmentError(
      'FENCE_NEEDS_DATA_DIR',
      `fence-old-primary edits the data directory of ${old.name}, which is reached only over SQL (provider: ${ctx.pg.provider}); ` +
        'fence it by the means of its platform (stop it for good, revoke its network), or drill failover on provider: native or testcontainers',
    );
  }
  // A zombie postmaster serves nothing: only the native provider sees one (zombies in a container are reaped by its init).
  const wasRunning = old.localProcesses ? old.localProcesses.serving() : await old.isRunning();
  // Also after a crash: a zombie postmaster must be reaped before a server can start over its pid file.
  if (await old.isRunning()) await old.kill();
  await fenceAsStandby(directory, old.name);

  try {
    await old.start();
  } catch (error) {
    // A fenced server that will not start cannot take writes either; say so rather than pass silently.
    ctx.recorder.event('fence-no-start', `${old.name} did not start after fencing: ${error instanceof Error ? error.message : String(error)}`);
    return { instance: old.name, wasRunning, fence: FENCE_DESCRIPTION, restart: 'did not start', leftStopped: !(await old.isRunning()) };
  }
  try {
    const position = await withClient({ ...old.connection, database: 'postgres' }, standbyPosition);
    if (!position.inRecovery) {
      throw new StepFailedError('FENCE_NOT_HOLDING', `${old.name} started as a primary despite the fence (${FENCE_DESCRIPTION})`);
    }
    const refusal = await withClient({ ...old.connection, database: 'postgres' }, async (c) => {
      try {
        await c.query('begin read write');
        await c.query('create table drill_fence_probe(x int)');
        await c.query('rollback');
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    });
    if (refusal === undefined || !/read-only transaction|during recovery|recovery is in progress/.test(refusal)) {
      throw new StepFailedError('FENCE_NOT_HOLDING', `${old.name} did not refuse a write after fencing (${refusal ?? 'the write succeeded'})`);
    }
    debug('%s fenced: restarted in recovery at %s, write refused (%s)', old.name, position.replayLsn, refusal);
    return {
      instance: old.name,
      ...(partitions.length > 0 ? { beforeFailover: `the application was cut off ${old.name} by ${partitions.join(', ')}` } : {}),
      wasRunning,
      fence: FENCE_DESCRIPTION,
      restart: 'came up in recovery (read-only)',
      writeRefused: refusal,
      // Crash recovery replayed all of its own WAL: where its timeline ends.
      walEndLsn: position.replayLsn,
      leftStopped: true,
    };
  } finally {
    await old.stop().catch(() => old.kill());
  }
}

/** The partitions in effect on the application's link (read back from nftables), if there is a link. */
async function partitionsOfLink(ctx: DrillContext): Promise<string[]> {
  const link = ctx.router.link;
  if (!link) return [];
  return (await link.degradations()).filter((d) => d.kind === 'partition').map((d) => d.id);
}
