import type { LoadedScenario } from '../../scenario/loader.js';
import type { Scenario } from '../../scenario/schema.js';
import { formatDuration } from '../../scenario/duration.js';
import { PausableDeadline } from '../pausable-deadline.js';
import type { Redactor } from '../../report/redactor.js';
import { startClock, type Clock } from '../clock.js';
import type { DrillContext } from '../drill-context.js';
import { DRILL_REGISTRIES, type DrillRegistries } from '../drill-registries.js';
import { EnvironmentError, InterruptedError } from '../errors.js';
import { JournalRecorder, type ActivityWrapper, type ProgressListener } from '../journal-recorder.js';
import type { Journal, RunbookRecord, RunStatus } from '../journal-types.js';
import { ResourceLedger } from '../resource-ledger.js';
import { TeardownStack } from '../teardown-stack.js';
import type { ManualGate } from '../manual-gate.js';
import type { Observers } from './observe.js';

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
  /** `drill run --game-day`: manual steps wait here for a person (src/engine/manual-gate.ts); absent, drill performs them itself. */
  gameDay?: ManualGate;
  /** The runbook procedure text for a manual step's `procedure:`, by the step's index in `recovery:` (resolved by the CLI, which has the runbook). */
  manualInstructions?: Record<number, string>;
  /** Target kinds, injectors and procedures by the scenario's names; default: the real ones (tests of the engine pass fakes). */
  registries?: DrillRegistries;
  /** How long work that is not raced against the abort may still run once the drill is aborted (default FINISH_GRACE_MS). */
  finishGraceMs?: number;
}

/**
 * Work that runs to its end (starting and stopping the observers, judging) still stops holding
 * the drill this long after Ctrl-C or the timeout: a hang there (a monitor's goodbye to a frozen
 * server once did) must not keep the teardown from running.
 */
export const FINISH_GRACE_MS = 10_000;

/**
 * One drill as it runs: what every phase task shares (scenario, clock, journal, teardown, the
 * abort) and what phases hand on to later ones (the context, the observers, whether recovery
 * held, the status). Aborting (Ctrl-C, a killed CLI, the scenario's `timeout`) rejects every
 * guarded await at once.
 */
export class DrillRun {
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly recorder: JournalRecorder;
  readonly journal: Journal;
  readonly teardown = new TeardownStack();
  readonly ledger: ResourceLedger;
  readonly registries: DrillRegistries;
  /** The probes and monitors, once started (src/engine/phases/observe.ts). */
  observers: Observers | undefined;
  /** False once a recovery step failed its postcondition: the rest are skipped, verify looks only once. */
  recovered = true;
  status: RunStatus = 'passed';

  private readonly abort = new AbortController();
  private readonly aborted: Promise<never>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly timeout: PausableDeadline;
  private readonly onOuterAbort: () => void;
  private provisioned: DrillContext | undefined;

  constructor(
    readonly loaded: LoadedScenario,
    readonly options: RunDrillOptions,
  ) {
    this.scenario = loaded.scenario;
    this.clock = startClock();
    this.recorder = new JournalRecorder(this.clock, options.runId, loaded, options.wrap, options.progress, options.secrets);
    this.journal = this.recorder.journal;
    if (options.runbook) this.journal.runbook = options.runbook;
    this.ledger = options.ledger ?? new ResourceLedger(undefined);
    this.registries = options.registries ?? DRILL_REGISTRIES;
    this.onOuterAbort = () => this.abort.abort(options.signal?.reason instanceof InterruptedError ? options.signal.reason : new InterruptedError());
    options.signal?.addEventListener('abort', this.onOuterAbort, { once: true });
    if (options.signal?.aborted) this.onOuterAbort();
    this.timeout = new PausableDeadline(this.scenario.timeout, () =>
      this.abort.abort(
        new EnvironmentError(
          'DRILL_TIMEOUT',
          `the drill did not finish within its timeout (${formatDuration(this.scenario.timeout)}, not counting waits for a person); raise \`timeout\` in the scenario or find the step that hangs in the journal`,
        ),
      ),
    );
    this.aborted = new Promise<never>((_, reject) => {
      this.abort.signal.addEventListener('abort', () => reject(this.abort.signal.reason), { once: true });
    });
    this.aborted.catch(() => undefined);
  }

  /**
   * Stops the scenario timeout's clock while a person works on a game-day step (their wait has its
   * own bound, manualTimeout); call the returned function when they are done.
   */
  pauseTimeout(): () => void {
    return this.timeout.pause();
  }

  /** Aborted by Ctrl-C, a killed `drill run`, or the scenario's timeout. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The drill context the provision phase built; the phases after it use it. */
  get context(): DrillContext {
    if (!this.provisioned) throw new Error('the drill context is used before the provision phase built it');
    return this.provisioned;
  }

  set context(ctx: DrillContext) {
    this.provisioned = ctx;
  }

  /**
   * Every await on a target races the abort, so Ctrl-C or the timeout never waits for a hung step;
   * the raced work is remembered so teardown can let it reach a safe point first.
   */
  guard<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(() => undefined, () => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return Promise.race([p, this.aborted]);
  }

  /**
   * Work that is not raced against the abort, because it touches no target and ends on its own:
   * it runs to its end, but once the drill is aborted it has `finishGraceMs` more, then the abort's
   * reason is thrown and the teardown runs (the work is left to itself).
   */
  finishing<T>(p: Promise<T>): Promise<T> {
    const grace = this.options.finishGraceMs ?? FINISH_GRACE_MS;
    const late = this.aborted.catch((reason: unknown) => new Promise<never>((_, reject) => setTimeout(() => reject(reason), grace).unref()));
    late.catch(() => undefined);
    return Promise.race([p, late]);
  }

  /** Stops the clock on the abort (timeout, outer signal) and waits, up to `ms`, for guarded work still running. */
  async settle(ms: number): Promise<void> {
    this.timeout.dispose();
    this.options.signal?.removeEventListener('abort', this.onOuterAbort);
    // Tearing down under a step that is still copying or starting a server would race it.
    if (this.inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, ms))]);
    }
  }
}
