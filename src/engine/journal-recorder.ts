import os from 'node:os';
import createDebug from 'debug';
import type { LoadedScenario } from '../scenario/loader.js';
import type { Clock } from './clock.js';
import { asDrillError } from './errors.js';
import { redactSecrets } from '../report/redact.js';
import { maskEnvironmentValues } from '../scenario/mask-environment.js';
import { HARNESS_VERSION } from './harness-version.js';
import type { ActivityRecord, ActivityStatus, Journal, Marks, ProbeSample } from './journal-types.js';

const debug = createDebug('drill:journal');

export type ActivityKind = 'phase' | 'step' | 'verification';

/** Called around every phase and step, e.g. to make each an Allure step with its real duration. */
export type ActivityWrapper = <T>(kind: ActivityKind, title: string, fn: () => Promise<T>) => Promise<T>;

export type ProgressListener = (event: { kind: 'start' | 'end' | 'event'; activity?: ActivityKind; title: string; status?: ActivityStatus; t: number }) => void;

/** Builds the journal as the drill runs; the engine is its only writer. */
export class JournalRecorder {
  readonly journal: Journal;

  constructor(
    readonly clock: Clock,
    runId: string,
    loaded: LoadedScenario,
    private readonly wrap: ActivityWrapper = (_k, _t, fn) => fn(),
    private readonly progress: ProgressListener = () => undefined,
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

  event(kind: string, message: string, data?: Record<string, unknown>): void {
    debug('%s: %s', kind, message);
    // Redacted here, once, so the timeline, Allure attachments and reports built from it never carry a secret.
    const safe = redactSecrets(message);
    this.journal.events.push({ ...this.clock.stamp(), kind, message: safe, ...(data ? { data: redactData(data) } : {}) });
    this.progress({ kind: 'event', title: message, t: this.clock.now() });
  }

  mark(name: keyof Marks): void {
    this.journal.marks[name] = this.clock.stamp();
  }

  probe(sample: ProbeSample): void {
    this.journal.probes.push(sample);
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
    const record: ActivityRecord = { name, title, start: this.clock.stamp(), status: 'running' };
    this.list(kind).push(record);
    this.progress({ kind: 'start', activity: kind, title, t: record.start.t });
    try {
      const output = await this.wrap(kind, title, fn);
      if (output) record.output = redactData(output);
      record.status = 'passed';
      return output;
    } catch (error) {
      const e = asDrillError(error);
      record.status = e.kind === 'interrupted' ? 'interrupted' : e.kind === 'check' ? 'failed' : 'error';
      record.error = { code: e.code, message: redactSecrets(e.message) };
      throw error;
    } finally {
      record.end = this.clock.stamp();
      this.progress({ kind: 'end', activity: kind, title, status: record.status, t: record.end.t });
    }
  }

  private list(kind: ActivityKind): ActivityRecord[] {
    if (kind === 'phase') return this.journal.phases;
    if (kind === 'step') return this.journal.steps;
    return (this.journal.verifications ??= []);
  }

  skipped(kind: ActivityKind, name: string, title: string, why: string): void {
    const stamp = this.clock.stamp();
    const record: ActivityRecord = { name, title, start: stamp, end: stamp, status: 'skipped', output: { why } };
    this.list(kind).push(record);
    this.progress({ kind: 'end', activity: kind, title, status: 'skipped', t: stamp.t });
  }
}

function redactData(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(redactSecrets(JSON.stringify(data))) as Record<string, unknown>;
}
