import createDebug from 'debug';
import { findRestoredInstant, judge, restoringStep } from '../assertions/index.js';
import { serviceProbeNames, serviceSamples } from '../assertions/probes.js';
import { inject } from '../injectors/index.js';
import { PROCEDURE_TITLES, runProcedure } from '../recovery/index.js';
import type { LoadedScenario } from '../scenario/loader.js';
import type { Redactor } from '../report/redactor.js';
import { formatDuration } from '../scenario/duration.js';
import { collectIntegrityFacts } from '../workload/integrity-facts.js';
import { tableFacts } from '../workload/dataset.js';
import { ProbeRunner } from '../workload/probes/probe-runner.js';
import { DbMonitor, MONITOR_INTERVAL_MS } from '../workload/db-monitor.js';
import { ServiceMonitor } from '../workload/service-monitor.js';
import { runLoad } from '../workload/load/run-load.js';
import { runVerifyStep, VERIFY_TITLES } from '../recovery/verify-steps.js';
import { startClock, sleep } from './clock.js';
import type { DrillContext } from './drill-context.js';
import { asDrillError, DrillError, EnvironmentError, InterruptedError, type ErrorKind } from './errors.js';
import { JournalRecorder, type ActivityWrapper, type ProgressListener } from './journal-recorder.js';
import type { Journal, RunbookRecord, RunStatus } from './journal-types.js';
import { buildDrillContext } from './build-context.js';
import { buildProbes } from './build-probes.js';
import { ResourceLedger } from './resource-ledger.js';
import { TeardownStack } from './teardown-stack.js';

const debug = createDebug('drill:engine');

/** How long an interrupted or timed-out step may take to stop before teardown goes ahead anyway. */
const SETTLE_BEFORE_TEARDOWN_MS = 20_000;

export interface RunDrillOptions {
  runId: string;
  /** Where what the drill creates is recorded (so what a killed drill left can be reaped). */
  ledger?: ResourceLedger;
  /** The run directory: files a drill keeps beside its journal (the service's logs) go here. */
  runDir?: string;
  /** Aborting it interrupts the drill: teardown runs, status `interrupted` (the reason, when an InterruptedError, is kept). */
  signal?: AbortSignal;
  wrap?: ActivityWrapper;
  progress?: ProgressListener;
  confirmDataLoss?: boolean;
  /** The run's Redactor, when the caller writes artifacts through it too; default: one for the scenario's ${VAR}s. */
  secrets?: Redactor;
  /** What the drill records of the runbook it follows (src/runbook/runbook-record.ts), when one was given. */
  runbook?: RunbookRecord;
}

/**
 * One drill, DESIGN.md section 3: provision -> baseline -> inject -> detect -> recover -> verify
 * -> judge, with teardown always. Returns the journal; never throws for a drill that failed,
 * only records it.
 */
export async function runDrill(loaded: LoadedScenario, options: RunDrillOptions): Promise<Journal> {
  const scenario = loaded.scenario;
  const clock = startClock();
  const recorder = new JournalRecorder(clock, options.runId, loaded, options.wrap, options.progress, options.secrets);
  const journal = recorder.journal;
  if (options.runbook) journal.runbook = options.runbook;
  const teardown = new TeardownStack();
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(options.signal?.reason instanceof InterruptedError ? options.signal.reason : new InterruptedError());
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();
  const timeout = setTimeout(
    () => abort.abort(new EnvironmentError('DRILL_TIMEOUT', `the drill did not finish within its timeout (${formatDuration(scenario.timeout)}); raise \`timeout\` in the scenario or find the step that hangs in the journal`)),
    scenario.timeout,
  );
  const aborted = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  const inFlight = new Set<Promise<unknown>>();
  /**
   * Every await on a target races the abort, so Ctrl-C or the timeout never waits for a hung step;
   * the raced work is remembered so teardown can let it reach a safe point first.
   */
  const guard = <T>(p: Promise<T>): Promise<T> => {
    const settled = p.then(() => undefined, () => undefined);
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return Promise.race([p, aborted]);
  };

  let status: RunStatus = 'passed';
  try {
    let provisioned: DrillContext | undefined;
    // The context stays out of the phase's output: it is not journal material (and holds the journal).
    await guard(recorder.activity('phase', 'provision', 'Provision', async () => {
      provisioned = await buildDrillContext(scenario, {
        runId: options.runId,
        scenarioFile: loaded.file,
        clock,
        recorder,
        signal: abort.signal,
        teardown,
        ledger: options.ledger ?? new ResourceLedger(undefined),
        confirmDataLoss: options.confirmDataLoss ?? false,
        ...(options.runDir ? { runDir: options.runDir } : {}),
      });
      return { postgres: provisioned.hasPostgres, kubernetes: provisioned.hasKubernetes, service: provisioned.hasService ? provisioned.service.description : false };
    }));
    const ctx = provisioned!;

    const probes = new ProbeRunner(buildProbes(scenario, ctx), clock, (s) => recorder.probe(s), ctx.probeGate);
    teardown.push('stop probes', () => probes.stop());
    // The runbook's "Monitor replication lag" / "Monitor database connections", baseline to verify.
    const monitor = ctx.hasPostgres
      ? new DbMonitor({ router: ctx.router, deployment: ctx.pg, clock, intervalMs: MONITOR_INTERVAL_MS, record: (m) => (journal.monitoring ??= []).push(m) })
      : undefined;
    teardown.push('stop database monitor', () => monitor?.stop());
    monitor?.start();
    // The runbook's "Monitoring & Alerting During Recovery" for the application: response times,
    // error rates and error log lines, from baseline to verify.
    const serviceMonitor = ctx.hasService
      ? new ServiceMonitor({ service: ctx.service, clock, intervalMs: MONITOR_INTERVAL_MS, record: (m) => (journal.serviceMonitoring ??= []).push(m) })
      : undefined;
    teardown.push('stop service monitor', () => serviceMonitor?.stop());
    serviceMonitor?.start();

    await guard(recorder.activity('phase', 'baseline', 'Baseline (steady state)', () => runBaseline(ctx, probes)));

    await guard(recorder.activity('phase', 'inject', 'Inject fault', async () => {
      const injected: string[] = [];
      for (const fault of scenario.faults) {
        abort.signal.throwIfAborted();
        const handle = await inject(ctx, fault);
        teardown.push(`revert ${handle.description}`, async () => {
          await handle[Symbol.asyncDispose]();
        });
        // When the injector saw it in effect, not now: probes may already have hit it.
        if (!journal.marks.tFault && !handle.precondition) recorder.markAt('tFault', handle.inEffectAt);
        recorder.event('fault', handle.description, handle.details);
        injected.push(handle.description);
      }
      return { faults: injected };
    }));

    await guard(recorder.activity('phase', 'detect', 'Detect', async () => {
      const tFault = journal.marks.tFault!.t;
      const deadline = clock.now() + scenario.detect.timeout;
      while (clock.now() < deadline) {
        const failing = serviceSamples(journal, tFault).find((s) => !s.ok);
        if (failing) {
          journal.marks.tDetected = { t: failing.t, wall: clock.wallAt(failing.t) };
          return { probe: failing.probe, error: failing.error, latencyMs: failing.t - tFault };
        }
        await sleep(50, abort.signal);
      }
      recorder.event('not-detected', `no service probe failed within ${formatDuration(scenario.detect.timeout)} of the fault`);
      return { detected: false };
    }));

    recorder.mark('tRecoveryStart');
    let recovered = true;
    await guard(recorder.activity('phase', 'recover', 'Recover (runbook steps)', async () => {
      for (const [index, step] of scenario.recovery.entries()) {
        const title = step.title ?? PROCEDURE_TITLES[step.step];
        if (!recovered) {
          recorder.skipped('step', step.step, title, 'an earlier step failed');
          continue;
        }
        try {
          abort.signal.throwIfAborted();
          // The timeout is inside the activity, so a step that runs out of time is recorded as failed.
          await guard(recorder.activity('step', step.step, title, () =>
            withTimeout(runProcedure(ctx, step), step.timeout, `recovery[${index}] ${step.step}`),
          ));
        } catch (error) {
          const e = asDrillError(error);
          // A step that could not act (a target out of reach, a tool or capability missing here) says
          // nothing about the runbook: the drill ends as an environment failure (exit 3), as
          // provisioning does, instead of judging a recovery that never ran.
          if (e.kind === 'interrupted' || e.kind === 'input' || e.kind === 'environment') throw error;
          recovered = false;
          recorder.event('step-failed', `${step.step}: ${e.message}`);
        }
      }
      return { recovered };
    }));
    recorder.mark('tRecoveryEnd');

    await guard(recorder.activity('phase', 'verify', 'Verify (stability, integrity, ledger)', async () => {
      // After a failed runbook step the service is not expected back: look once more for a stable
      // window (it may have healed by itself) instead of waiting out the whole RTO.
      const patience = recovered ? scenario.expect.rto : Math.max(0, clock.now() - (journal.marks.tFault?.t ?? 0));
      const stableAt = await waitForRestored(journal, patience, scenario.expect.stability, clock.now, abort.signal);
      // The restored instant can lie inside the recovery phase (a step that only checks comes
      // after the one that restores), its window even complete by its end. The workload still
      // runs for one window after the last step, so the writer's acknowledged writes show the
      // write path working after recovery, not only the probes' reads.
      await sleepUntil(journal.marks.tRecoveryEnd!.t + scenario.expect.stability, clock.now, abort.signal);
      // The runbook's "Recovery Validation" runs once the service is back (or, if it never came
      // back, anyway: the report then says what a user would have met).
      for (const step of scenario.verify) {
        abort.signal.throwIfAborted();
        await guard(recorder.activity('verification', step.step, step.title ?? VERIFY_TITLES[step.step], () =>
          withTimeout(runVerifyStep(ctx, step), step.timeout, `verify ${step.step}`),
        )).catch((error: unknown) => {
          const e = asDrillError(error);
          if (e.kind === 'interrupted' || e.kind === 'input' || e.kind === 'environment' || e.code === 'DRILL_TIMEOUT') throw error;
          recorder.event('verification-failed', `${step.step}: ${e.message}`);
        });
      }
      const checked = ctx.hasPostgres ? await verifyDatabase(ctx) : {};
      recorder.mark('tVerified');
      return { stableFrom: stableAt, ...checked };
    }));

    await probes.stop();
    await monitor?.stop();
    await serviceMonitor?.stop();
    await recorder.activity('phase', 'judge', 'Judge', async () => {
      const judgement = judge(journal);
      journal.verdicts = judgement.verdicts;
      journal.measurements = judgement.measurements;
      status = judgement.status;
      return { status, failed: judgement.verdicts.filter((v) => v.status === 'failed').map((v) => v.check) };
    });
  } catch (error) {
    const e = asDrillError(error);
    status = statusForStop(e.kind);
    journal.error = { code: e.code, message: e.message };
    debug('drill stopped: %s %s', e.code, e.message);
  } finally {
    clearTimeout(timeout);
    options.signal?.removeEventListener('abort', onOuterAbort);
    // Tearing down under a step that is still copying or starting a server would race it.
    if (inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, SETTLE_BEFORE_TEARDOWN_MS))]);
    }
    const failures = await recorder.activity('phase', 'teardown', 'Teardown', async () => {
      const failed = await teardown.runAll();
      return failed.length ? { failures: failed } : { failures: [] };
    }).catch(() => undefined);
    if (failures && (failures.failures as unknown[]).length > 0) {
      recorder.event('teardown-failed', `teardown left problems: ${JSON.stringify(failures.failures)}`);
    }
    journal.status = status;
    journal.endedAt = new Date().toISOString();
  }
  return journal;
}

/** How a drill that stopped early ends: a refused input found only while running (a namespace not marked as a drill target) is still invalid input. */
function statusForStop(kind: ErrorKind): RunStatus {
  switch (kind) {
    case 'interrupted':
      return 'interrupted';
    case 'check':
      return 'failed';
    case 'input':
      return 'invalid-input';
    default:
      return 'environment-error';
  }
}

/** Workload on, a base backup, the steady state, then the snapshot integrity is judged against. */
async function runBaseline(ctx: DrillContext, probes: ProbeRunner): Promise<Record<string, unknown>> {
  const { scenario, recorder, clock, signal } = ctx;
  const journal = recorder.journal;
  probes.start();
  if (!ctx.hasPostgres) {
    await sleep(scenario.baseline.steadyState, signal);
    return { ...(await baselineLoad(ctx)) };
  }
  ctx.writer.start();
  const backupAt = scenario.baseline.backupAfter ?? 0;
  await sleep(backupAt, signal);
  const backup = await ctx.pg.takeBaseBackup(ctx.pg.primary);
  recorder.event('base-backup', `base backup ${backup.id} (${backup.startLsn}..${backup.endLsn})`, { ...backup });
  await sleep(Math.max(0, scenario.baseline.steadyState - backupAt), signal);
  const load = await baselineLoad(ctx);
  journal.snapshot = {
    takenAt: clock.stamp(),
    instance: ctx.router.current.name,
    label: 'before the fault (the data set is static during the drill, so this is also the state at any recovery target after seeding)',
    tables: await tableFacts(ctx.router.connection),
  };
  return { backup: backup.id, acknowledgedWrites: journal.canary.acks.length, ...load };
}

/** The runbook's "Response time verification --baseline": the reference the performance check compares with. */
async function baselineLoad(ctx: DrillContext): Promise<Record<string, unknown>> {
  const settings = ctx.scenario.workload.load;
  if (!settings) return {};
  const run = await runLoad(ctx, settings, 'baseline');
  return { load: { p99Ms: run.latencyMs.p99, requestsPerSecond: run.requestsPerSecond, responses: run.responses, errors: run.errors, non2xx: run.non2xx } };
}

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
  try {
    journal.canary.recovered = await ctx.writer.readBack(ctx.router.connection, instance.name, clock.stamp);
  } catch (error) {
    recorder.event('ledger-unreadable', `could not read the canary ledger on ${instance.name}: ${asDrillError(error).message}`);
  }
  return { instance: instance.name, integrityErrors: journal.integrity.errors.length, writesAckedAfterRecovery };
}

/**
 * Polls until the restored instant of DESIGN.md section 4 is established, by the function the RTO
 * judge uses, or until RTO has run out; returns it.
 */
async function waitForRestored(journal: Journal, rto: number, stability: number, now: () => number, signal: AbortSignal): Promise<number | undefined> {
  const tFault = journal.marks.tFault?.t ?? 0;
  const names = serviceProbeNames(journal);
  const step = restoringStep(journal);
  // A window is observed once every probe has sampled past its end: allow the slowest one a round.
  const slowestRound = Math.max(0, ...journal.scenario.definition.workload.probes.filter((p) => p.service).map((p) => p.interval + p.timeout));
  // Past this the RTO has failed whatever happens; waiting longer only delays the report.
  const giveUpAt = tFault + rto + stability + slowestRound + 1000;
  while (now() < giveUpAt) {
    const { restored } = findRestoredInstant(serviceSamples(journal, tFault), names, stability, step);
    if (restored) return restored.at;
    await sleep(100, signal);
  }
  return undefined;
}

async function sleepUntil(t: number, now: () => number, signal: AbortSignal): Promise<void> {
  const left = t - now();
  if (left > 0) await sleep(left, signal);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DrillError('STEP_TIMEOUT', `${what} did not finish within ${formatDuration(ms)}`, 'check')), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
