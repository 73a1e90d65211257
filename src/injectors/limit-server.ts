import { statSync } from 'node:fs';
import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { cgroupOf, requireWritableController, type LimitController } from '../targets/process/cgroup-v1.js';
import { LimitCgroup } from '../targets/process/limit-cgroup.js';
import { liftLimit } from '../targets/process/attached-cgroups.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { databaseProcesses, journalled, stillRecorded, type RegionProcess } from './region-processes.js';

const debug = createDebug('drill:inject');

export interface LimitedServer {
  instance: PgInstance;
  cgroup: LimitCgroup;
  /** The server's processes moved in, each identity-checked (pid and start time, still PostgreSQL). */
  moved: RegionProcess[];
  /** The instant before the postmaster was moved: the limit cannot have acted on the server earlier. */
  limitedAt: number;
}

/**
 * Puts the primary's PostgreSQL under a limit: a drill cgroup (v1, one controller) below the one
 * its postmaster is in, `configure` writes the limit, the cgroup is attached to the instance (every
 * later start of the server joins it) and every process of the server is moved in, the postmaster
 * first so what it forks meanwhile is born inside. A process is moved only while it is still the
 * one listed (pid and start time, still a PostgreSQL process of the data directory): a pid freed
 * and reused meanwhile is never limited. The caller's handle lifts it with `liftLimit`.
 */
export async function limitServer(ctx: DrillContext, what: string, controller: LimitController, configure: (cgroup: LimitCgroup) => void): Promise<LimitedServer> {
  requireDrillTarget(ctx, what);
  const instance = ctx.router.current;
  const limits = instance.resourceLimits;
  const local = instance.localProcesses;
  if (!limits || !local) {
    throw new EnvironmentError('RESOURCE_LIMIT_UNSUPPORTED', `${what} moves ${instance.name}'s processes into a cgroup of this machine, which only a server the native provider runs can have; use targets.postgres.provider: native`);
  }
  const mount = requireWritableController(controller, what);
  const postmaster = local.postmaster();
  if (postmaster === undefined) throw new EnvironmentError('SERVER_NOT_RUNNING', `${what}: ${instance.name} has no running postmaster to limit; check its log`);
  const origin = cgroupOf(postmaster, controller) ?? '/';
  // The server's user may join the cgroup itself: a restart (pg_ctl as that user) does.
  const owner = statSync(`/proc/${postmaster}`);
  const cgroup = LimitCgroup.create({ controller, mount, origin, runId: ctx.runId, name: `postgres-${instance.name}`, ledger: ctx.ledger, joinableBy: { uid: owner.uid, gid: owner.gid } });
  try {
    configure(cgroup);
    limits.attach(cgroup);
    const limitedAt = ctx.clock.now();
    const moved = moveServer(instance, cgroup);
    debug('%s: %d processes in %s', instance.name, moved.length, cgroup.dir);
    return { instance, cgroup, moved, limitedAt };
  } catch (error) {
    await liftLimit(instance, cgroup).catch(() => undefined);
    throw error;
  }
}

/** Moves the server's processes in until none is left outside (a backend forked before the postmaster moved). */
function moveServer(instance: PgInstance, cgroup: LimitCgroup): RegionProcess[] {
  const moved: RegionProcess[] = [];
  for (let round = 0; round < 5; round++) {
    const inside = new Set(cgroup.pids());
    const outside = databaseProcesses(instance).filter((p) => !inside.has(p.pid));
    if (outside.length === 0) break;
    for (const p of outside) if (stillRecorded(p) && cgroup.adopt([p.pid]).length === 1) moved.push(p);
  }
  if (!moved.some((p) => p.name.endsWith('postmaster'))) {
    throw new EnvironmentError('RESOURCE_LIMIT_NOT_IN_EFFECT', `${instance.name}'s postmaster could not be moved into ${cgroup.dir}; the limit was lifted again`);
  }
  return moved;
}

/** What the journal shows of the processes moved in. */
export const movedForJournal = journalled;
