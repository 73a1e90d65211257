import { tableFacts } from '../../workload/dataset.js';
import { runLoad } from '../../workload/load/run-load.js';
import { sleep } from '../clock.js';
import type { DrillContext } from '../drill-context.js';
import type { PhaseTask } from './phase-task.js';

/** Workload on, a base backup, the steady state, then the snapshot integrity is judged against. */
export const baselinePhase: PhaseTask = {
  name: 'baseline',
  title: 'Baseline (steady state)',
  abortable: true,
  async run(run) {
    const ctx = run.context;
    const { scenario, recorder, clock, signal } = ctx;
    const journal = recorder.journal;
    run.observers?.probes.start();
    if (!ctx.has('pg')) {
      await sleep(scenario.baseline.steadyState, signal);
      return { ...(await baselineLoad(ctx)) };
    }
    ctx.writer.start();
    // The steady state runs from the writer's start; the base backup is taken inside it (the
    // workload goes on while it copies, as in production), not added after it.
    const steadyFrom = clock.now();
    const backupAt = scenario.baseline.backupAfter ?? 0;
    await sleep(backupAt, signal);
    const backup = await ctx.pg.takeBaseBackup(ctx.pg.primary);
    recorder.event('base-backup', `base backup ${backup.id} (${backup.startLsn}..${backup.endLsn})`, { ...backup });
    await sleep(Math.max(0, steadyFrom + scenario.baseline.steadyState - clock.now()), signal);
    const load = await baselineLoad(ctx);
    journal.snapshot = {
      takenAt: clock.stamp(),
      instance: ctx.router.current.name,
      label: 'before the fault (the data set is static during the drill, so this is also the state at any recovery target after seeding)',
      tables: await tableFacts(ctx.router.connection),
    };
    return { backup: backup.id, acknowledgedWrites: journal.canary.acks.length, ...load };
  },
};

/** The runbook's "Response time verification --baseline": the reference the performance check compares with. */
async function baselineLoad(ctx: DrillContext): Promise<Record<string, unknown>> {
  const settings = ctx.scenario.workload.load;
  if (!settings) return {};
  const run = await runLoad(ctx, settings, 'baseline');
  return { load: { p99Ms: run.latencyMs.p99, requestsPerSecond: run.requestsPerSecond, responses: run.responses, errors: run.errors, non2xx: run.non2xx } };
}
