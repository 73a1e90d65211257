import type { Clock } from '../engine/clock.js';
import type { JournalRecorder } from '../engine/journal-recorder.js';
import type { ResourceKind, ResourceLedger } from '../engine/resource-ledger.js';
import type { TeardownStack } from '../engine/teardown-stack.js';
import type { Scenario } from '../scenario/schema.js';
import type { TargetPart, TargetParts } from './target-parts.js';

/** A key of the scenario's `targets` (postgres, kubernetes, service): one target kind each. */
export type TargetKey = keyof Scenario['targets'];

/** What the scenario says of one target kind: its part of the schema (`targets.<key>`). */
export type TargetSpec<K extends TargetKey> = NonNullable<Scenario['targets'][K]>;

/** What the engine hands every target kind's provisioning. */
export interface TargetEnvironment {
  readonly runId: string;
  readonly clock: Clock;
  /** Events, component versions, and `secrets`: a password or token is registered the moment it exists. */
  readonly recorder: JournalRecorder;
  /** Aborted by Ctrl-C or the drill's timeout: long waits (a cluster starting, pods getting ready) stop on it. */
  readonly signal: AbortSignal;
  /**
   * Where the undo of each piece goes, pushed *before* the piece is created: provisioning that
   * fails halfway still has what it made undone (in reverse order, with the rest of the drill).
   */
  readonly teardown: TeardownStack;
  /** Every resource outside the drill's process is recorded here before it is created, so a killed drill's leftovers are reaped. */
  readonly ledger: ResourceLedger;
  /** The scenario file, for paths in it (targets.kubernetes.manifests). */
  readonly scenarioFile?: string;
  /** Where a run keeps files beside its journal (the service's logs); absent: nothing is kept. */
  readonly runDir?: string;
  /**
   * The address at which the system under drill reaches the harness's host: the drill network's
   * host address when it runs in pods there; absent: loopback (it runs beside the harness).
   */
  readonly appHost?: string;
  /**
   * The scenario's whole `targets`, for a kind whose placement another kind's settings decide
   * (PostgreSQL's instances in the regions' ranges); filled in by provisionTargets.
   */
  readonly targets?: Scenario['targets'];
  /**
   * A fault of the scenario degrades the replication link (`link: replication`): PostgreSQL builds
   * its replicas streaming through a proxy, which must exist before they do.
   */
  readonly replicationLink?: boolean;
}

/**
 * One kind of target a scenario can name under `targets` (DESIGN.md section 7: one registry entry
 * per kind, src/targets/target-kinds.ts). The engine provisions the kinds the scenario names, in
 * the order `after` gives, and builds the drill context from what they provide; it never names a
 * kind itself.
 */
export interface TargetKind<K extends TargetKey> {
  /**
   * Kinds provisioned before this one when the scenario names them: their parts are in
   * `provided` (e.g. Kubernetes puts the drill database's URL into the application's Secret).
   * A kind that cannot work without one checks for its part and says what to add.
   */
  readonly after: readonly TargetKey[];
  /** The drill context parts it may add (a drill that uses one it did not add gets a do-this TARGET_MISSING error). */
  readonly provides: readonly TargetPart[];
  /** The ledger entries its targets record (each kind has its reaper in src/engine/reapers.ts). */
  readonly records: readonly ResourceKind[];
  /**
   * Stands the target up and returns the parts it adds. Teardown is pushed to `env.teardown`
   * before each piece it undoes, resources go to `env.ledger` before they exist, and secrets to
   * `env.recorder.secrets` as they are made.
   */
  provision(spec: TargetSpec<K>, env: TargetEnvironment, provided: Readonly<Partial<TargetParts>>): Promise<Partial<TargetParts>>;
}

/** One kind per key of the scenario's `targets`; the compiler checks none is missing. */
export type TargetKinds = { readonly [K in TargetKey]-?: TargetKind<K> };
