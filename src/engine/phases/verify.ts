import { findRestoredInstant, restoringStep } from '../../assertions/index.js';
import { serviceProbeNames, serviceSamples } from '../../assertions/probes.js';
import { VERIFY_TITLES } from '../../recovery/verify-steps.js';
import { collectIntegrityFacts } from '../../workload/integrity-facts.js';
import { collectArchivingFacts } from '../../workload/archiving-facts.js';
import { breaksArchiving } from '../../scenario/fault-effects.js';
import { rehashForensics } from '../../recovery/forensics/hash-files.js';
import { sleep } from '../clock.js';
import type { DrillContext } from '../drill-context.js';
import { asDrillError } from '../errors.js';
import type { Journal } from '../journal-types.js';
import { withTimeout } from '../with-timeout.js';
import type { PhaseTask } from './phase-task.js';

/**
 * Waits for the service to be restored (DESIGN.md section 4) and for one stability window after
 * the last step, runs the runbook's "Recovery Validation" steps, then stops the writer and reads
 * back what survived.
 */
export const verifyPhase: PhaseTask = {
  name: 'verify',
  title: 'Verify (stability, integrity, ledger)',
  abortable: true,
  async run(run) {
    const { clock, journal, recorder, scenario, signal } = run;
    const ctx = run.context;
    // After a failed runbook step the service is not expected back: look once more for a stable
    // window (it may have healed by itself) instead of waiting out the whole RTO.
    const patience = run.recovered ? scenario.expect.rto : Math.max(0, clock.now() - (journal.marks.tFault?.t ?? 0));
    // The preserved evidence, hashed again now that the runbook's steps are done (what the
    // forensics check compares), while the stability window is waited out rather than after it:
    // hundreds of MB of memory dumps take most of a second. Done before the validation steps, so
    // their load test never shares the machine with it.
    const forensics = journal.forensics;
    const runDir = ctx.runDir;
    const recheck = forensics && runDir !== undefined ? rehashForensics(runDir, forensics).then((files) => ({ at: clock.stamp(), files })) : undefined;
    const probes = run.observers?.probes;
    const stableAt = await waitForRestored(journal, patience, scenario.expect.stability, clock.now, signal, (t) => probes?.sampleServiceBy(t));
    // The restored instant can lie inside the recovery phase (a step that only checks comes
    // after the one that restores), its window even complete by its end. The workload still
    // runs for one window after the last step, so the writer's acknowledged writes show the
    // write path working after recovery, not only the probes' reads.
    await sleepUntil(journal.marks.tRecoveryEnd!.t + scenario.expect.stability, clock.now, signal);
    if (forensics && recheck) forensics.recheck = await recheck;
    // The runbook's "Recovery Validation" runs once the service is back (or, if it never came
    // back, anyway: the report then says what a user would have met).
    for (const step of scenario.verify) {
      signal.throwIfAborted();
      await run
        .guard(recorder.activity('verification', step.step, step.title ?? VERIFY_TITLES[step.step], () => withTimeout(run.registries.verify(ctx, step), step.timeout, `verify ${step.step}`)))
        .catch((error: unknown) => {
          const e = asDrillError(error);
          if (e.kind === 'interrupted' || e.kind === 'input' || e.kind === 'environment' || e.code === 'DRILL_TIMEOUT') throw error;
          recorder.event('verification-failed', `${step.step}: ${e.message}`);
        });
    }
    const checked = ctx.has('pg') ? await verifyDatabase(ctx) : {};
    recorder.mark('tVerified');
    return { stableFrom: stableAt, ...checked };
  },
};

/** Stops the writer, then reads back what survived and checks integrity on the current primary. */
async function verifyDatabase(ctx: DrillContext): Promise<Record<string, unknown>> {
  const { recorder, clock } = ctx;
  const journal = recorder.journal;
  await ctx.writer.stop();
  const recoveryEnd = journal.marks.tRecoveryEnd?.t ?? Infinity;
  const writesAckedAfterRecovery = journal.canary.acks.filter((ack) => ack.tAck > recoveryEnd).length;
  if (writesAckedAfterRecovery === 0) {
    recorder.event('writes-not-resumed', 'the canary writer had no write acknowledged after the recovery steps ended: the write path is not shown to work after recovery');
  }
  const instance = ctx.router.current;
  journal.integrity = await collectIntegrityFacts(ctx.router.connection, instance.name, clock.stamp);
  // A fault that broke archiving is recovered only when archiving works again (the archiving check).
  if (breaksArchiving(ctx.scenario)) journal.archiving = await collectArchivingFacts(instance.connection, instance.name, clock.stamp);
  try {
    journal.canary.recovered = await ctx.writer.readBack(ctx.router.connection, instance.name, clock.stamp);
  } catch (error) {
    recorder.event('ledger-unreadable', `could not read the canary ledger on ${instance.name}: ${asDrillError(error).message}`);
  }
  return {
    instance: instance.name,
    integrityErrors: journal.integrity.errors.length,
    writesAckedAfterRecovery,
    ...(journal.archiving ? { archived: journal.archiving.archived } : {}),
  };
}

/**
 * Polls until the restored instant of DESIGN.md section 4 is established, by the function the RTO
 * judge uses, or until RTO has run out; returns it. The probes are asked to sample at the end of
 * the window they are in (`sampleBy`), so it is observed to its end then, not a probe interval later.
 */
async function waitForRestored(
  journal: Journal,
  rto: number,
  stability: number,
  now: () => number,
  signal: AbortSignal,
  sampleBy: (t: number) => void,
): Promise<number | undefined> {
  const tFault = journal.marks.tFault?.t ?? 0;
  const names = serviceProbeNames(journal);
  const step = restoringStep(journal);
  // A window is observed once every probe has sampled past its end: allow the slowest one a round.
  const slowestRound = Math.max(0, ...journal.scenario.definition.workload.probes.filter((p) => p.service).map((p) => p.interval + p.timeout));
  // Past this the RTO has failed whatever happens; waiting longer only delays the report.
  const giveUpAt = tFault + rto + stability + slowestRound + 1000;
  while (now() < giveUpAt) {
    const { restored, pending } = findRestoredInstant(serviceSamples(journal, tFault), names, stability, step);
    if (restored) return restored.at;
    if (pending) sampleBy(pending.end);
    // Looked at often: the probes' samples are already in memory, and every drill waits here.
    await sleep(20, signal);
  }
  return undefined;
}

async function sleepUntil(t: number, now: () => number, signal: AbortSignal): Promise<void> {
  const left = t - now();
  if (left > 0) await sleep(left, signal);
}
