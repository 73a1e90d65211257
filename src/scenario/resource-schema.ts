import { z } from 'zod';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The resource-pressure parts of the scenario format (issue 12, "Resource pressure"): the
 * `cpu-stress` and `memory-stress` faults, which put the primary's PostgreSQL into a cgroup (v1) of
 * the drill's with a lower limit, and the `remove-resource-limit` step that lifts it. Kept apart
 * from schema.ts (which composes them) so this vocabulary reads in one place.
 */

const KI = 1024;
const UNITS: Record<string, number> = { Ki: KI, Mi: KI ** 2, Gi: KI ** 3 };
/** A memory size as Kubernetes writes one (`64Mi`, `512Ki`, `1Gi`). */
export const BYTE_SIZE_PATTERN = '^([1-9][0-9]{0,6})(Ki|Mi|Gi)$';
/** The smallest limit: below a few MiB not even the postmaster's own pages fit, so nothing but the kernel's refusals would be drilled. */
export const MIN_MEMORY_LIMIT = 4 * KI ** 2;
/** The largest: a limit above what any drill machine has is no pressure. */
export const MAX_MEMORY_LIMIT = 64 * KI ** 3;

/** Bytes of a `64Mi`-style size; undefined when it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = new RegExp(BYTE_SIZE_PATTERN).exec(text);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

const memoryLimit = z
  .string()
  .regex(new RegExp(BYTE_SIZE_PATTERN), 'a size like 64Mi, 512Ki or 1Gi (a whole number and Ki, Mi or Gi)')
  .transform((text) => parseByteSize(text)!)
  .check((ctx) => {
    if (ctx.value < MIN_MEMORY_LIMIT) ctx.issues.push({ code: 'custom', message: 'must be at least 4Mi (below that not even the postmaster fits)', input: ctx.value });
    else if (ctx.value > MAX_MEMORY_LIMIT) ctx.issues.push({ code: 'custom', message: 'must be at most 64Gi', input: ctx.value });
  })
  .meta({ description: 'The memory limit (memory.limit_in_bytes): a whole number and Ki, Mi or Gi, e.g. 64Mi; from 4Mi to 64Gi' });

/** cgroup v1 refuses a CFS quota under 1 ms a period; 100 ms is the kernel's default period. */
export const CFS_PERIOD_US = 100_000;
export const MIN_CPUS = 0.01;
export const MAX_CPUS = 1024;

export const cpuStressFault = needs(
  z
    .strictObject({
      type: z.literal('cpu-stress'),
      cpus: z
        .number()
        .min(MIN_CPUS)
        .max(MAX_CPUS)
        .meta({ description: 'The CPU the database may use, in CPUs (0.05: 5 ms of each 100 ms period, cpu.cfs_quota_us/cpu.cfs_period_us); from 0.01 to 1024' }),
    })
    .meta({
      description:
        'The primary PostgreSQL (postmaster and every process of it; new backends and a restarted server join too) is moved into a cgroup of the drill whose CPU quota is `cpus`: ' +
        'queries stall while the server is throttled, as on an overcommitted host. Nothing goes down by itself; T_fault: when the quota was set. Native provider, cgroup v1',
    }),
  'postgres',
);

export const memoryStressFault = needs(
  z
    .strictObject({
      type: z.literal('memory-stress'),
      limit: memoryLimit,
      mode: z
        .enum(['limit', 'oom-kill'])
        .default('limit')
        .meta({
          description:
            'limit: only the limit (the workload meets it or not); oom-kill: a session with work_mem raised runs a sort larger than the limit until the kernel OOM killer kills a process of the server ' +
            '(the backend or the postmaster), T_fault is then when that kill was observed',
        }),
      killWithin: duration(WAIT)
        .default(30_000)
        .meta({ description: 'oom-kill only: no OOM kill within this is an environment failure (exit 3), and the limit is lifted again' }),
    })
    .meta({
      description:
        'The primary PostgreSQL (postmaster and every process of it; new backends and a restarted server join too) is moved into a cgroup of the drill with memory.limit_in_bytes `limit`; ' +
        'the kernel OOM-kills a process of it that needs more. Native provider, cgroup v1',
    }),
  'postgres',
);

const stepBase = { timeout: duration(WAIT).default(600_000), title: z.string().optional(), ...manualFields, restoresService };

export const removeResourceLimitStep = needs(
  z
    .strictObject({
      step: z.literal('remove-resource-limit'),
      ...stepBase,
    })
    .meta({
      description:
        'Lift the limits of cpu-stress and memory-stress (as raising a container\'s limits): the server\'s processes go back to the cgroup they came from, the drill\'s cgroup is removed. ' +
        'It does not restart a server the OOM killer stopped (pg-restart does). Postcondition: no process of the server is in a drill cgroup',
    }),
  'postgres',
);
