import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import type { Fault } from '../scenario/schema.js';
import { CFS_PERIOD_US } from '../scenario/resource-schema.js';
import { liftLimit } from '../targets/process/attached-cgroups.js';
import { limitServer, movedForJournal } from './limit-server.js';

type CpuStress = Extract<Fault, { type: 'cpu-stress' }>;

/** The kernel refuses a quota under 1 ms a period. */
const MIN_QUOTA_US = 1000;

/**
 * CPU starvation of the database host, as on an overcommitted machine or a container with too low
 * a CPU limit: the primary's PostgreSQL runs in a drill cgroup whose CFS quota is `cpus` of one
 * CPU per 100 ms period (cpu.cfs_quota_us / cpu.cfs_period_us). Once a period's quota is used up
 * every process of the server waits for the next period, so queries take longer, and nothing fails
 * by itself. T_fault is the instant before the postmaster was moved in.
 */
export async function injectCpuStress(ctx: DrillContext, fault: CpuStress): Promise<FaultHandle> {
  const quotaUs = Math.max(MIN_QUOTA_US, Math.round(fault.cpus * CFS_PERIOD_US));
  const limited = await limitServer(ctx, 'cpu-stress', 'cpu', (cgroup) => {
    cgroup.write('cpu.cfs_period_us', CFS_PERIOD_US);
    cgroup.write('cpu.cfs_quota_us', quotaUs);
  });
  const { instance, cgroup } = limited;
  return {
    description: `cpu stress: ${instance.name}'s PostgreSQL limited to ${quotaUs / CFS_PERIOD_US} CPU (${quotaUs} µs of each ${CFS_PERIOD_US} µs) in ${cgroup.dir}`,
    details: {
      instance: instance.name,
      cgroup: cgroup.dir,
      cpus: fault.cpus,
      cfsQuotaUs: Number(cgroup.read('cpu.cfs_quota_us')),
      cfsPeriodUs: Number(cgroup.read('cpu.cfs_period_us')),
      processes: movedForJournal(limited.moved),
    },
    inEffectAt: limited.limitedAt,
    // Reverted only if recovery did not (remove-resource-limit): the server's processes go back.
    async [Symbol.asyncDispose]() {
      await liftLimit(instance, cgroup);
    },
  };
}
