import type { Scenario } from '../scenario/schema.js';
import type { ConnectionInfo, PgInstance } from '../targets/postgres/types.js';
import type { TargetPart, TargetParts } from '../targets/target-parts.js';
import type { CanaryWriter } from '../workload/canary-writer.js';
import type { Notifier } from '../notify/notifier.js';
import type { DeployedMigrations } from '../workload/migrations/deployed-migrations.js';
import type { ProbeGate } from '../workload/probes/probe-gate.js';
import type { Clock } from './clock.js';
import type { JournalRecorder } from './journal-recorder.js';
import type { ResourceLedger } from './resource-ledger.js';
import type { TeardownStack } from './teardown-stack.js';

export interface RestorePoint {
  name: string;
  lsn: string;
  t: number;
  /** A transaction committed just before the point: `{ xid: before-fault }` stops right after it. */
  xid?: string;
  /** Server time just before the point (UTC): `{ time: before-fault }` stops before commits from then on. */
  time?: string;
}

/**
 * What injectors and recovery procedures may use. They act on targets and record what they did;
 * they never judge (assertions do) and never import each other (the scenario composes them).
 * The targets' parts (`pg`, `router`, `k8s`, `service`: src/targets/target-parts.ts) are what the
 * scenario's target kinds provided; reading one that none provided throws a do-this InputError
 * (TARGET_MISSING) naming the target to add.
 */
export interface DrillContext extends Readonly<TargetParts> {
  readonly runId: string;
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly recorder: JournalRecorder;
  readonly signal: AbortSignal;
  readonly teardown: TeardownStack;
  /** Where what the drill creates is recorded, so what a killed drill left can be reaped (src/engine/reapers.ts). */
  readonly ledger: ResourceLedger;
  /** The run directory (reports/<run-id>/), where a step may keep files beside the journal (preserve-forensics); absent when the drill keeps none. */
  readonly runDir?: string;
  /** Whether the scenario's targets provided this part (e.g. `has('pg')`: the drill has a PostgreSQL). */
  has(part: TargetPart): boolean;
  /** The canary writer on the application database; throws a do-this InputError when the scenario has no PostgreSQL target. */
  readonly writer: CanaryWriter;
  /** Named points in the WAL that recovery can aim at; injectors add `before-fault`. */
  readonly restorePoints: Map<string, RestorePoint>;
  /** Instances created by recovery steps, newest last; `switch-workload` moves traffic to the newest. */
  readonly recoveredInstances: PgInstance[];
  /** The runbook's --confirm-data-loss, given on the command line. */
  readonly confirmDataLoss: boolean;
  /** The schema migrations the deployed application ships (a bad release adds its own). */
  readonly migrations: DeployedMigrations;
  /** DATABASE_URL of a connection as the system under drill reaches it (pods on real nodes: the drill network's host address). */
  applicationDatabaseUrl(connection: ConnectionInfo): string;
  /** Holds the service probes while an injector stops a target for its own edit (that outage is the harness's, not the fault's). */
  readonly probeGate: ProbeGate;
  /** Stakeholder notifications (`notifications:`): the runbook's Communication Templates to the scenario's channels. */
  readonly notifier: Notifier;
}

/** A fault in effect. Disposing it reverts it (or cleans up after it) so teardown cannot forget. */
export interface FaultHandle extends AsyncDisposable {
  readonly description: string;
  readonly details: Record<string, unknown>;
  /**
   * When the fault was in effect as the injector observed it (the server back on the damaged
   * page, the pods gone, the node NotReady, the statement committed), on the drill's clock. Never
   * later than the instant it really took effect: the injector reports the last moment it still
   * saw the world without the fault, or the moment it acted, whichever it can bound. T_fault is
   * this instant of the first handle that is not a precondition.
   */
  readonly inEffectAt: number;
  /**
   * Set up before the fault rather than the outage itself (e.g. replication held back before the
   * primary dies): T_fault is marked by the first handle that is not a precondition.
   */
  readonly precondition?: boolean;
}
