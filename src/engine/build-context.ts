import type { Scenario } from '../scenario/schema.js';
import { applicationDatabaseUrl, applicationHost } from '../targets/network/application-host.js';
import type { TargetKinds } from '../targets/target-kind.js';
import { TARGET_PARTS, targetMissing, type TargetPart, type TargetParts } from '../targets/target-parts.js';
import { SqlCanaryChannel } from '../workload/sql-canary-channel.js';
import { ApiCanaryChannel } from '../workload/api-canary-channel.js';
import { CanaryWriter } from '../workload/canary-writer.js';
import { DeployedMigrations } from '../workload/migrations/deployed-migrations.js';
import { ProbeGate } from '../workload/probes/probe-gate.js';
import { Notifier } from '../notify/notifier.js';
import type { Clock } from './clock.js';
import type { DrillContext, RestorePoint } from './drill-context.js';
import type { JournalRecorder } from './journal-recorder.js';
import { provisionTargets } from './provision-targets.js';
import type { ResourceLedger } from './resource-ledger.js';
import type { TeardownStack } from './teardown-stack.js';

export interface ContextDeps {
  runId: string;
  clock: Clock;
  recorder: JournalRecorder;
  signal: AbortSignal;
  teardown: TeardownStack;
  ledger: ResourceLedger;
  confirmDataLoss: boolean;
  /** The target kinds the scenario's `targets` are provisioned by (src/targets/target-kinds.ts; a test passes fakes). */
  targetKinds: TargetKinds;
  /** The scenario file, for paths in it (targets.kubernetes.manifests). */
  scenarioFile?: string;
  /** Where a run keeps files beside its journal (the service's logs); absent: nothing is kept. */
  runDir?: string;
}

/**
 * Provisions the scenario's targets and wires the workload to them. A target the scenario does
 * not name is absent: a step that needs it fails with a message saying which target to add.
 */
export async function buildDrillContext(scenario: Scenario, deps: ContextDeps): Promise<DrillContext> {
  const { recorder, clock, teardown } = deps;
  const appHost = await applicationHost();
  const parts = await provisionTargets(scenario.targets, deps.targetKinds, {
    runId: deps.runId,
    clock,
    recorder,
    signal: deps.signal,
    teardown,
    ledger: deps.ledger,
    ...(deps.scenarioFile !== undefined ? { scenarioFile: deps.scenarioFile } : {}),
    ...(deps.runDir ? { runDir: deps.runDir } : {}),
    ...(appHost ? { appHost } : {}),
    // A network fault on the replication link, or a region partition (which cuts the inter-region
    // link the DR replica streams over): the replicas are built streaming through a proxy.
    ...(scenario.faults.some((f) => ('link' in f && f.link === 'replication') || f.type === 'region-partition') ? { replicationLink: true } : {}),
  });
  const writer = canaryWriter(scenario, parts, deps);
  const context = {
    runId: deps.runId,
    scenario,
    clock,
    recorder,
    signal: deps.signal,
    teardown,
    ledger: deps.ledger,
    ...(deps.runDir ? { runDir: deps.runDir } : {}),
    has: (part: TargetPart) => parts[part] !== undefined,
    get writer() {
      if (writer) return writer;
      throw targetMissing('router', 'the canary writer');
    },
    restorePoints: new Map<string, RestorePoint>(),
    recoveredInstances: [],
    confirmDataLoss: deps.confirmDataLoss,
    migrations: new DeployedMigrations(),
    applicationDatabaseUrl: (connection) => applicationDatabaseUrl(connection, appHost),
    probeGate: new ProbeGate(),
    notifier: new Notifier({ settings: scenario.notifications, clock, recorder, signal: deps.signal, ...(deps.scenarioFile !== undefined ? { scenarioFile: deps.scenarioFile } : {}) }),
  } satisfies Omit<DrillContext, TargetPart>;
  return Object.defineProperties(context, partAccessors(parts)) as typeof context & DrillContext;
}

/** A getter per part: the part, or the do-this TARGET_MISSING error when no target kind provided it. */
function partAccessors(parts: Partial<TargetParts>): PropertyDescriptorMap {
  const accessors: PropertyDescriptorMap = {};
  for (const part of Object.keys(TARGET_PARTS) as TargetPart[]) {
    accessors[part] = {
      enumerable: true,
      get: () => {
        const value = parts[part];
        if (value === undefined) throw targetMissing(part);
        return value;
      },
    };
  }
  return accessors;
}

/**
 * The canary writer on the application database, when there is one: through the service's API
 * with `canary: { via: api }`. Its stop is registered before it can start.
 */
function canaryWriter(scenario: Scenario, parts: Partial<TargetParts>, deps: ContextDeps): CanaryWriter | undefined {
  const { router, service } = parts;
  if (!router) return undefined;
  let channel: ApiCanaryChannel | SqlCanaryChannel | undefined;
  if (scenario.workload.canary.via === 'api') {
    if (!service) throw targetMissing('service', 'the API canary (via: api)');
    channel = new ApiCanaryChannel(service, () => service.token, router);
  }
  // Around the application's link: it still writes where the router points, by the database's own address.
  if (scenario.workload.canary.via === 'direct') channel = new SqlCanaryChannel(router, 'direct');
  const { recorder } = deps;
  const writer = new CanaryWriter({
    ...(channel ? { channel } : {}),
    router,
    clock: deps.clock,
    intervalMs: scenario.workload.canary.interval,
    onAck: (ack) => recorder.journal.canary.acks.push(ack),
    onFailure: () => undefined,
  });
  deps.teardown.push('stop canary writer', async () => {
    await writer.stop();
    recorder.journal.canary.attempts = writer.attempts;
    recorder.journal.canary.failures = writer.failures;
  });
  return writer;
}
