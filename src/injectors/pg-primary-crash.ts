import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { awaitExit } from '../targets/postgres/native-process.js';
import { currentWalLsn } from '../targets/postgres/replication-status.js';
import { withClient } from '../targets/postgres/with-client.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';

const debug = createDebug('drill:inject');

/** Backends notice a dead postmaster within milliseconds; this only bounds a stuck one. */
const ORPHAN_EXIT_TIMEOUT_MS = 10_000;

type PrimaryCrash = Extract<Fault, { type: 'pg-primary-crash' }>;

/**
 * Runbook "Primary Database Failure": the primary dies. SIGKILL of the postmaster, no shutdown
 * checkpoint, nothing flushed that was not already; then the wait until its backends have exited
 * too, so the handle is only returned once no orphaned backend can acknowledge a commit. T_fault is
 * the kill: from then on the server takes no new session, and a write an orphaned backend still
 * acknowledged in the milliseconds after it counts as acknowledged after the fault.
 */
export async function injectPrimaryCrash(ctx: DrillContext, _fault: PrimaryCrash): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'pg-primary-crash');
  const instance = ctx.router.current;
  let childCount = 0;
  // Informational: the last position seen; the real end of its WAL is read offline after the crash.
  const lsnBeforeKill = await withClient({ ...instance.connection, database: 'postgres' }, currentWalLsn).catch(() => undefined);
  const local = instance.localProcesses;
  // The pid file's pid only if it is still this data directory's postmaster: a stale file may name
  // a pid the kernel has since given to another process, which a SIGKILL must never reach.
  const postmaster = local?.postmaster();
  // The server stops serving the moment the signal lands; nothing before this instant can see it.
  let killedAt = ctx.clock.now();
  if (local === undefined || postmaster === undefined) {
    // Not a local process tree (or no pid file): the instance's own crash, which waits for it.
    await instance.kill();
    if (await instance.isRunning()) {
      throw new EnvironmentError('CRASH_FAILED', `${instance.name} was sent SIGKILL and is still running; check the process table`);
    }
  } else {
    const before = local.others(postmaster);
    debug('SIGKILL %s (postmaster %d, %d other processes)', instance.name, postmaster, before.length);
    killedAt = ctx.clock.now();
    try {
      process.kill(postmaster, 'SIGKILL');
    } catch {
      throw new EnvironmentError('CRASH_FAILED', `${instance.name}'s postmaster (pid ${postmaster}) was not running; it cannot be crashed`);
    }
    // Again after the kill: a backend forked in between is in the session too.
    const children = [...new Set([...before, ...local.others(postmaster)])];
    // Dead is dead: a zombie waiting for its parent to reap it runs nothing and acknowledges nothing.
    const stragglers = await awaitExit([postmaster, ...children], ORPHAN_EXIT_TIMEOUT_MS);
    if (stragglers.length > 0) {
      throw new EnvironmentError(
        'CRASH_ORPHANS',
        `${instance.name} was sent SIGKILL but processes ${stragglers.join(', ')} still run after ${ORPHAN_EXIT_TIMEOUT_MS / 1000} s; ` +
          'they could still acknowledge writes. Kill them and check the machine',
      );
    }
    childCount = children.length;
  }
  debug('%s crashed (postmaster %s, %d other processes gone)', instance.name, postmaster ?? '?', childCount);
  return {
    description: `primary crash (SIGKILL) of ${instance.name}`,
    details: { instance: instance.name, postmasterPid: postmaster, processesExited: childCount, lsnBeforeKill },
    inEffectAt: killedAt,
    // A crash cannot be undone. Restarting the server here could bring back a second writable
    // primary beside a promoted replica; the deployment's teardown removes what is left of it.
    async [Symbol.asyncDispose]() {},
  };
}
