import type { Scenario } from '../scenario/schema.js';
import { applicationConnection, databaseUrl } from '../targets/kubernetes/database-url.js';
import { inDrillNetwork } from '../targets/network/in-drill-network.js';
import { GUARD_CIDR, HOST_IP } from '../targets/network/layout.js';
import type { KubernetesTarget } from '../targets/kubernetes/kubernetes-target.js';
import type { PostgresDeployment } from '../targets/postgres/types.js';
import { CanaryWriter } from '../workload/canary-writer.js';
import { DatabaseRouter } from '../workload/database-router.js';
import { DeployedMigrations } from '../workload/migrations/deployed-migrations.js';
import { ProbeGate } from '../workload/probes/probe-gate.js';
import type { Clock } from './clock.js';
import type { DrillContext, RestorePoint } from './drill-context.js';
import { InputError } from './errors.js';
import type { JournalRecorder } from './journal-recorder.js';
import { provisionPostgres } from './provision.js';
import { provisionKubernetes } from './provision-kubernetes.js';
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
  /** The scenario file, for paths in it (targets.kubernetes.manifests). */
  scenarioFile?: string;
}

/**
 * Provisions the scenario's targets and wires the workload to them. A target the scenario does
 * not name is absent: a step that needs it fails with a message saying which target to add.
 */
export async function buildDrillContext(scenario: Scenario, deps: ContextDeps): Promise<DrillContext> {
  const { recorder, clock, teardown } = deps;
  let pg: PostgresDeployment | undefined;
  let router: DatabaseRouter | undefined;
  let writer: CanaryWriter | undefined;
  // In a drill network the system under drill runs in pods: it reaches the harness's host (the
  // database) at the network's host address, not at loopback.
  const appHost = (await inDrillNetwork()) ? HOST_IP : undefined;
  if (scenario.targets.postgres) {
    pg = await provisionPostgres(scenario.targets.postgres, {
      runId: deps.runId,
      clock,
      ledger: deps.ledger,
      teardown,
      recorder,
      ...(appHost ? { hostAddress: { address: appHost, clients: GUARD_CIDR } } : {}),
    });
    router = new DatabaseRouter(pg.primary);
    const w = new CanaryWriter({
      router,
      clock,
      intervalMs: scenario.workload.canary.interval,
      onAck: (ack) => recorder.journal.canary.acks.push(ack),
      onFailure: () => undefined,
    });
    writer = w;
    teardown.push('stop canary writer', async () => {
      await w.stop();
      recorder.journal.canary.attempts = w.attempts;
      recorder.journal.canary.failures = w.failures;
    });
  }
  // After PostgreSQL, so the application's DATABASE_URL Secret points at the drill's database.
  let k8s: KubernetesTarget | undefined;
  if (scenario.targets.kubernetes) {
    k8s = await provisionKubernetes(scenario.targets.kubernetes, {
      runId: deps.runId,
      clock,
      ledger: deps.ledger,
      teardown,
      recorder,
      signal: deps.signal,
      scenarioFile: deps.scenarioFile,
      databaseUrl: router ? databaseUrl(applicationConnection(router.connection, appHost)) : undefined,
    });
  }
  const need = <T>(value: T | undefined, what: string): T => {
    if (value !== undefined) return value;
    throw new InputError('TARGET_MISSING', `this drill uses ${what}, but the scenario has no targets.postgres; add one`);
  };
  return {
    runId: deps.runId,
    scenario,
    clock,
    recorder,
    signal: deps.signal,
    teardown,
    get pg() {
      return need(pg, 'PostgreSQL');
    },
    get router() {
      return need(router, 'the application database');
    },
    get writer() {
      return need(writer, 'the canary writer');
    },
    get k8s() {
      if (k8s) return k8s;
      throw new InputError('TARGET_MISSING', 'this drill acts on Kubernetes, but the scenario has no targets.kubernetes; add one (e.g. targets: {kubernetes: {provider: auto}})');
    },
    hasKubernetes: k8s !== undefined,
    hasPostgres: pg !== undefined,
    restorePoints: new Map<string, RestorePoint>(),
    recoveredInstances: [],
    confirmDataLoss: deps.confirmDataLoss,
    migrations: new DeployedMigrations(),
    applicationDatabaseUrl: (connection) => databaseUrl(applicationConnection(connection, appHost)),
    probeGate: new ProbeGate(),
  };
}
