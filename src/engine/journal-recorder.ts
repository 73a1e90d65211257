import os from 'node:os';
import createDebug from 'debug';
import type { LoadedScenario } from '../scenario/loader.js';
import type { Clock } from './clock.js';
import { asDrillError } from './errors.js';
import { scenarioRedactor, type Redactor } from '../report/redactor.js';
import { maskEnvironmentValues } from '../scenario/mask-environment.js';
import { HARNESS_VERSION } from './harness-version.js';
import type { ActivityRecord, ActivityStatus, AttackAttempt, Journal, LeakedCredential, Marks, ProbeSample } from './journal-types.js';

const debug = createDebug('drill:journal');

export type ActivityKind = 'phase' | 'step' | 'verification';

/** Called around every phase and step, e.g. to make each an Allure step with its real duration. */
export type ActivityWrapper = <T>(kind: ActivityKind, title: string, fn: () => Promise<T>) => Promise<T>;

/** `notice`: an event a person at the terminal must see (a game day waiting for them); other events stay in the journal. */
export type ProgressListener = (event: { kind: 'start' | 'end' | 'event' | 'notice'; activity?: ActivityKind; title: string; status?: ActivityStatus; t: number }) => void;

/**
 * Builds the journal as the drill runs; the engine is its only writer. It owns the run's Redactor:
 * the scenario's `${VAR}` values are in it from the start, and code that creates a secret while the
 * drill runs (a generated password, a minted token) registers it through `secrets` at once. Text
 * is redacted as it is recorded, since progress lines and Allure steps are written while the drill
 * runs; the journal is redacted once more, whole, when it is written (writeRunArtifacts).
 */
export class JournalRecorder {
  readonly journal: Journal;

  constructor(
    readonly clock: Clock,
    runId: string,
    loaded: LoadedScenario,
    private readonly wrap: ActivityWrapper = (_k, _t, fn) => fn(),
    private readonly progress: ProgressListener = () => undefined,
    readonly secrets: Redactor = scenarioRedactor(loaded.environment),
  ) {
    this.journal = {
      journalVersion: 1,
      runId,
      harness: {
        name: 'drill',
        version: HARNESS_VERSION,
        node: process.version,
        platform: `${os.type()} ${os.release()}`,
        arch: os.arch(),
        hostname: os.hostname(),
      },
      components: {},
      scenario: { file: loaded.file, sha256: loaded.sha256, definition: maskEnvironmentValues(loaded.scenario, loaded.fromEnvironment) },
      startedAt: clock.wallAt(0),
      phases: [],
      steps: [],
      events: [],
      probes: [],
      canary: { acks: [], attempts: 0, failures: 0 },
      marks: {},
      measurements: {},
      verdicts: [],
    };
  }

  event(kind: string, message: string, data?: Record<string, unknown>, options: { notice?: boolean } = {}): void {
    const safe = this.secrets.redact(message);
    debug('%s: %s', kind, safe);
    this.journal.events.push({ ...this.clock.stamp(), kind, message: safe, ...(data ? { data: this.safeData(data) } : {}) });
    this.progress({ kind: options.notice ? 'notice' : 'event', title: safe, t: this.clock.now() });
  }

  mark(name: keyof Marks): void {
    this.journal.marks[name] = this.clock.stamp();
  }

  /** A mark at an instant observed earlier on the run clock (e.g. when an injector saw its fault in effect). */
  markAt(name: keyof Marks, t: number): void {
    this.journal.marks[name] = { t, wall: this.clock.wallAt(t) };
  }

  probe(sample: ProbeSample): void {
    // A probe's error may quote its URL or query, and those may hold a ${VAR} value.
    this.journal.probes.push(sample.error === undefined ? sample : { ...sample, error: this.secrets.redact(sample.error) });
  }

  /** A credential the drill leaked (its value must already be registered with `secrets`). */
  leakedCredential(credential: LeakedCredential): void {
    (this.journal.attacker ??= { credentials: [], attempts: [] }).credentials.push(credential);
  }

  /** One attacker use of a leaked credential; its error may quote what it sent, so it is redacted. */
  attackAttempt(attempt: AttackAttempt): void {
    const attempts = (this.journal.attacker ??= { credentials: [], attempts: [] }).attempts;
    attempts.push(attempt.error === undefined ? attempt : { ...attempt, error: this.secrets.redact(attempt.error) });
  }

  /**
   * Runs one phase or step, recording start, end, status, output and error. A thrown error is
   * recorded and re-thrown; the caller decides whether the drill goes on.
   */
  async activity<T extends Record<string, unknown> | void>(
    kind: ActivityKind,
    name: string,
    title: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    const shown = this.secrets.redact(title);
    const record: ActivityRecord = { name, title: shown, start: this.clock.stamp(), status: 'running' };
    this.list(kind).push(record);
    this.progress({ kind: 'start', activity: kind, title: shown, t: record.start.t });
    try {
      const output = await this.wrap(kind, shown, fn);
      if (output) record.output = this.safeData(output);
      record.status = 'passed';
      return output;
    } catch (error) {
      const e = asDrillError(error);
      record.status = e.kind === 'interrupted' ? 'interrupted' : e.kind === 'check' ? 'failed' : 'error';
      record.error = { code: e.code, message: this.secrets.redact(e.message) };
      throw error;
    } finally {
      record.end = this.clock.stamp();
      this.progress({ kind: 'end', activity: kind, title: shown, status: record.status, t: record.end.t });
    }
  }

  private list(kind: ActivityKind): ActivityRecord[] {
    if (kind === 'phase') return this.journal.phases;
    if (kind === 'step') return this.journal.steps;
    return (this.journal.verifications ??= []);
  }

  skipped(kind: ActivityKind, name: string, title: string, why: string): void {
    const stamp = this.clock.stamp();
    const shown = this.secrets.redact(title);
    const record: ActivityRecord = { name, title: shown, start: stamp, end: stamp, status: 'skipped', output: { why: this.secrets.redact(why) } };
    this.list(kind).push(record);
    this.progress({ kind: 'end', activity: kind, title: shown, status: 'skipped', t: stamp.t });
  }

  /** The journal as it may be written: every string redacted (what was recorded unredacted, e.g. `error`, included). */
  redactedJournal(): Journal {
    return JSON.parse(this.secrets.json(this.journal)) as Journal;
  }

  private safeData(data: Record<string, unknown>): Record<string, unknown> {
    return JSON.parse(this.secrets.json(data)) as Record<string, unknown>;
  }
}
