/**
 * Realistic journals for the assertion tests: canary acks every 100 ms, probes every 250 ms.
 * `healthyDrill()` is a drill that passes every check; tests bend one thing at a time.
 *
 * Timeline of the healthy drill (run clock, ms):
 *   0-10000       baseline; canary epoch 1 acks ids 1-99 at t = 100*id
 *   10000         T_fault
 *   10100-20000   service probes fail (first failing sample: http at 10125 -> detection 125 ms)
 *   10500-20000   runbook steps; 20000 writer switched to the recovered primary (epoch 2, ids 100-)
 *   20000         first passing sql sample; 20125 first passing http sample (last failure: http at
 *                 19875), stable to the end -> RTO 10.125 s, restored between T_fault+9.875 s and it
 *   26000         T_verified; 40000 last sample; ledger read at 40500
 */
import type {
  ActivityRecord,
  ActivityStatus,
  CanaryAck,
  DatasetSnapshot,
  IntegrityFacts,
  Journal,
  ProbeSample,
  RecoveredCanaryRow,
  Stamp,
  TableFacts,
} from '../../src/engine/journal-types.js';
import { scenarioSchema, type ScenarioInput } from '../../src/scenario/schema.js';

const EPOCH_WALL = Date.parse('2025-03-01T09:00:00.000Z');
export const stamp = (t: number): Stamp => ({ t, wall: new Date(EPOCH_WALL + t).toISOString() });

export interface ProbeSpec {
  name: string;
  service?: boolean;
  /** First sample time. */
  from?: number;
  /** Last sample time (inclusive). */
  to?: number;
  every?: number;
  /** Half-open [from, to) intervals in which the probe fails. */
  failing?: Array<[number, number]>;
  error?: string;
}

export interface WritesSpec {
  /** tAck of the first write; later ones follow `every` ms apart up to `to` inclusive. */
  from: number;
  to: number;
  every?: number;
  epoch?: number;
  firstId?: number;
  /** Server clock offset written into serverWall (never changes the RPO; the ledger check holds it to each write's request window, ± 5 s). */
  serverSkewMs?: number;
}

type AckFilter = (ack: CanaryAck) => boolean;

export class JournalBuilder {
  private expectInput: NonNullable<ScenarioInput['expect']> = { rto: '30s', rpo: '3s', stability: '5s' };
  private tFault: number | undefined = 10_000;
  private tVerified: number | undefined = 26_000;
  private probeSpecs: ProbeSpec[] = [];
  private extraSamples: ProbeSample[] = [];
  private ackList: CanaryAck[] = [];
  private lost: AckFilter[] = [];
  private corrupted: AckFilter[] = [];
  private extraRows: RecoveredCanaryRow[] = [];
  private ledgerRead = true;
  private snapshotTables: Record<string, TableFacts> | undefined = {
    accounts: { rows: 200, checksum: 'md5-accounts-0001' },
    transfers: { rows: 2000, checksum: 'md5-transfers-0001' },
  };
  private integrityFacts: IntegrityFacts | undefined = {
    checkedAt: stamp(25_000),
    instance: 'pg-recovered',
    tables: {
      accounts: { rows: 200, checksum: 'md5-accounts-0001' },
      transfers: { rows: 2000, checksum: 'md5-transfers-0001' },
    },
    foreignKeys: [{ constraint: 'transfers_from_account_fkey', table: 'transfers', violations: 0 }],
    amcheck: [],
    pageChecksumFailures: 0,
    errors: [],
  };
  private stepList: ActivityRecord[] = [];
  private restoringStepName: string | undefined;

  expect(input: NonNullable<ScenarioInput['expect']>): this {
    this.expectInput = { ...this.expectInput, ...input };
    return this;
  }

  fault(t: number | undefined): this {
    this.tFault = t;
    return this;
  }

  verified(t: number | undefined): this {
    this.tVerified = t;
    return this;
  }

  /** Declare a probe and generate its samples (replaces an earlier probe of the same name). */
  probe(spec: ProbeSpec): this {
    this.probeSpecs = [...this.probeSpecs.filter((p) => p.name !== spec.name), spec];
    return this;
  }

  /** Raw samples on top of the generated ones (e.g. one flap). */
  samples(...samples: Array<Partial<ProbeSample> & { probe: string; t: number; ok: boolean }>): this {
    for (const s of samples) this.extraSamples.push({ service: true, latencyMs: 3, ...s });
    return this;
  }

  /** Acknowledged canary writes; returns the builder (ids continue from firstId). */
  writes(spec: WritesSpec): this {
    const every = spec.every ?? 100;
    const epoch = spec.epoch ?? 1;
    let id = spec.firstId ?? 1;
    for (let t = spec.from; t <= spec.to; t += every, id++) {
      const wall = EPOCH_WALL + t;
      this.ackList.push({
        id,
        epoch,
        checksum: `sha256:${epoch}:${id}`,
        tAck: t,
        clientWall: new Date(wall).toISOString(),
        serverWall: new Date(wall + (spec.serverSkewMs ?? 0)).toISOString(),
      });
    }
    return this;
  }

  clearWrites(): this {
    this.ackList = [];
    return this;
  }

  /** Acks matching the filter have no row in the recovered database. */
  lose(filter: AckFilter): this {
    this.lost.push(filter);
    return this;
  }

  /** Recovered rows of acks matching the filter fail their payload checksum. */
  corrupt(filter: AckFilter): this {
    this.corrupted.push(filter);
    return this;
  }

  /** Rows in the recovered database that no ack stands for (e.g. commits whose ack was lost). */
  extraRecoveredRows(...rows: RecoveredCanaryRow[]): this {
    this.extraRows.push(...rows);
    return this;
  }

  ledgerNeverRead(): this {
    this.ledgerRead = false;
    return this;
  }

  snapshot(tables: Record<string, TableFacts> | undefined): this {
    this.snapshotTables = tables;
    return this;
  }

  integrity(patch: Partial<IntegrityFacts> | undefined): this {
    this.integrityFacts = patch === undefined || this.integrityFacts === undefined ? undefined : { ...this.integrityFacts, ...patch };
    return this;
  }

  step(name: string, start: number, end: number | undefined, status: ActivityStatus = 'passed', error?: { code: string; message: string }): this {
    this.stepList.push({
      name,
      title: name,
      start: stamp(start),
      ...(end !== undefined ? { end: stamp(end) } : {}),
      status,
      ...(error ? { error } : {}),
    });
    return this;
  }

  /** Marks the planned recovery step of that name `restoresService: true`. */
  restoresService(step: 'assess-corruption' | 'stop-writes' | 'pitr-restore' | 'switch-workload'): this {
    this.restoringStepName = step;
    return this;
  }

  clearSteps(): this {
    this.stepList = [];
    return this;
  }

  build(): Journal {
    const definition = scenarioSchema.parse({
      name: 'pg-page-corruption',
      title: 'Heap page corruption, PITR restore to before the fault',
      runbook: 'Database corruption',
      severity: 'P0',
      targets: { postgres: { provider: 'native' } },
      workload: {
        probes: this.probeSpecs.map((p) => ({
          type: 'sql' as const,
          name: p.name,
          query: 'select 1',
          interval: `${p.every ?? 250}ms`,
          service: p.service ?? true,
        })),
      },
      faults: [{ type: 'pg-page-corruption', table: 'transfers' }],
      recovery: (
        [{ step: 'assess-corruption' }, { step: 'stop-writes' }, { step: 'pitr-restore', target: 'before-fault' }, { step: 'switch-workload' }] as const
      ).map((step) => (step.step === this.restoringStepName ? { ...step, restoresService: true } : step)),
      expect: this.expectInput,
    } satisfies ScenarioInput);

    const probes: ProbeSample[] = [...this.extraSamples];
    for (const spec of this.probeSpecs) {
      const every = spec.every ?? 250;
      for (let t = spec.from ?? 250; t <= (spec.to ?? 40_000); t += every) {
        const failing = (spec.failing ?? []).some(([from, to]) => t >= from && t < to);
        probes.push({
          probe: spec.name,
          service: spec.service ?? true,
          t,
          ok: !failing,
          latencyMs: failing ? 2000 : 4,
          ...(failing ? { error: spec.error ?? 'connection refused' } : {}),
        });
      }
    }
    probes.sort((a, b) => a.t - b.t);

    const acks = [...this.ackList].sort((a, b) => a.tAck - b.tAck);
    const rows: RecoveredCanaryRow[] = [
      ...acks
        .filter((ack) => !this.lost.some((f) => f(ack)))
        .map((ack) => ({ id: ack.id, epoch: ack.epoch, checksumOk: !this.corrupted.some((f) => f(ack)) })),
      ...this.extraRows,
    ];

    const phase = (name: string, start: number, end: number): ActivityRecord => ({
      name,
      title: name,
      start: stamp(start),
      end: stamp(end),
      status: 'passed',
    });
    const snapshot: DatasetSnapshot | undefined = this.snapshotTables && {
      takenAt: stamp(9_000),
      instance: 'pg-primary',
      label: 'recovery target: before fault',
      tables: this.snapshotTables,
    };

    return {
      journalVersion: 1,
      runId: '20250301-090000-pg-page-corruption',
      harness: { name: 'drill', version: '0.1.0', node: 'v20.11.0', platform: 'linux', arch: 'x64', hostname: 'ci-1' },
      components: { postgres: '15.8' },
      scenario: { file: 'drills/scenarios/pg-page-corruption.yaml', sha256: 'f'.repeat(64), definition },
      startedAt: stamp(0).wall,
      endedAt: stamp(41_000).wall,
      phases: [phase('provision', -3000, 0), phase('baseline', 0, 10_000), phase('inject', 10_000, 10_000), phase('recover', 10_500, 20_000)],
      steps: this.stepList,
      events: [],
      probes,
      canary: {
        acks,
        attempts: acks.length + 95,
        failures: 95,
        ...(this.ledgerRead ? { recovered: { readAt: stamp(40_500), instance: 'pg-recovered', rows } } : {}),
      },
      marks: {
        ...(this.tFault !== undefined ? { tFault: stamp(this.tFault) } : {}),
        ...(this.tVerified !== undefined ? { tVerified: stamp(this.tVerified) } : {}),
      },
      ...(snapshot ? { snapshot } : {}),
      ...(this.integrityFacts ? { integrity: this.integrityFacts } : {}),
      measurements: {},
      verdicts: [],
    };
  }
}

/** A drill that passes every check (see the timeline above). */
export function healthyDrill(): JournalBuilder {
  return new JournalBuilder()
    .probe({ name: 'sql', from: 250, failing: [[10_100, 20_000]], error: 'FATAL: the database system is in recovery mode' })
    .probe({ name: 'http', from: 125, failing: [[10_100, 20_000]], error: 'HTTP 503' })
    .writes({ from: 100, to: 9_900, epoch: 1, firstId: 1 })
    .writes({ from: 20_100, to: 40_000, epoch: 2, firstId: 100 })
    .step('assess-corruption', 10_500, 11_500)
    .step('stop-writes', 11_500, 12_000)
    .step('pitr-restore', 12_000, 19_000)
    .step('switch-workload', 19_000, 20_000);
}

/** Deep-freeze, to prove an assertion does not mutate its input. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
