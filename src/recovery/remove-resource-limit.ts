import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, StepFailedError } from '../engine/errors.js';
import { liftLimit } from '../targets/process/attached-cgroups.js';
import { cgroupOf } from '../targets/process/cgroup-v1.js';

/**
 * Lift the resource limits of the database host, as raising a container's or VM's CPU and memory:
 * each drill cgroup attached to the application's server (cpu-stress, memory-stress) is detached,
 * its processes go back to the cgroup they came from, and it is removed. It restarts nothing: a
 * server the OOM killer took down stays down until `pg-restart`. Postcondition: none of the
 * server's processes is in a cgroup of the run.
 */
export async function removeResourceLimit(ctx: DrillContext): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  const limits = instance.resourceLimits;
  if (!limits) {
    throw new EnvironmentError('RESOURCE_LIMIT_UNSUPPORTED', `remove-resource-limit: ${instance.name} is not a server whose processes the drill can put in a cgroup (provider: native)`);
  }
  const attached = [...limits.attached];
  if (attached.length === 0) {
    throw new StepFailedError('NO_RESOURCE_LIMIT', `remove-resource-limit: ${instance.name} has no limit of the drill to lift (it was lifted already, or the fault acted on another server)`);
  }
  const lifted = [];
  for (const cgroup of attached) {
    const counters = cgroup.counters();
    const movedBack = await liftLimit(instance, cgroup);
    lifted.push({ controller: cgroup.controller, cgroup: cgroup.dir, processesMovedBack: movedBack.length, counters, removed: !cgroup.exists() });
  }
  const local = instance.localProcesses;
  const pids = local ? [local.postmaster(), ...local.others()].filter((p): p is number => p !== undefined) : [];
  const stillLimited = pids.filter((pid) => attached.some((c) => cgroupOf(pid, c.controller) === c.record.path));
  if (stillLimited.length > 0 || lifted.some((l) => !l.removed)) {
    throw new StepFailedError('RESOURCE_LIMIT_STILL_IN_EFFECT', `remove-resource-limit: processes ${stillLimited.join(', ') || '(none)'} of ${instance.name} are still in a drill cgroup, or one was not removed`);
  }
  return { instance: instance.name, lifted, serverRunning: local?.serving() ?? (await instance.isRunning()) };
}
