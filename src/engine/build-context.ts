import path from 'node:path';
import type { Scenario } from '../scenario/schema.js';
import { applicationConnection, databaseUrl } from '../targets/kubernetes/database-url.js';
import { inDrillNetwork } from '../targets/network/in-drill-network.js';
import { GUARD_CIDR, HOST_IP } from '../targets/network/layout.js';
import type { KubernetesTarget } from '../targets/kubernetes/kubernetes-target.js';
import { KubernetesService, runningRelease } from '../targets/kubernetes/kubernetes-service.js';
import type { PostgresDeployment } from '../targets/postgres/types.js';
import type { ServiceTarget } from '../targets/service/types.js';
import { ApiCanaryChannel } from '../workload/api-canary-channel.js';
import { CanaryWriter } from '../workload/canary-writer.js';
import { DatabaseRouter } from '../workload/database-router.js';
import { DeployedMigrations } from '../workload/migrations/deployed-migrations.js';
import { ProbeGate } from '../workload/probes/probe-gate.js';
import type { Clock } from './clock.js';
import type { DrillContext, RestorePoint } from './drill-context.js';
import { InputError } from './errors.js';
import type { JournalRecorder } from './journal-recorder.js';
import { provisionPostgres } from './provision.js';
import { provisionService } from './provision-service.js';
import { createServiceCredentials } from './service-credentials.js';
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
  /** Where a run keeps files beside its journal (the service's logs); absent: nothing is kept. */
  runDir?: string;
}

/**
 * Provisions the scenario's targets and wires the workload to them. A target the scenario does
 * not name is absent: a step that needs it fails with a message saying which target to add.
 */
export async function buildDrillContext(scenario: Scenario, deps: ContextDeps): Promise<DrillContext> {
  const { recorder, clock, teardown } = deps;
  const need = <T>(value: T | undefined, what: string, target: 'postgres' | 'service' = 'postgres'): T => {
    if (value !== undefined) return value;
    throw new InputError('TARGET_MISSING', `this drill uses ${what}, but the scenario has no targets.${target}; add one`);
  };
  let pg: PostgresDeployment | undefined;
  let router: DatabaseRouter | undefined;
  let writer: CanaryWriter | undefined;
  // In a drill network the system under drill runs in pods: it reaches the harness's host (the
  // database) at the network's host address, not at loopback.
  const appHost = (await inDrillNetwork()) ? HOST_IP : undefined;
  let service: ServiceTarget | undefined;
  if (scenario.targets.postgres) {
    pg = await provisionPostgres(scenario.targets.postgres, {
      runId: deps.runId,
      clock,
      ledger: deps.ledger,
      teardown,
      recorder,
      ...(appHost ? { hostAddress: { address: appHost, clients: GUARD_CIDR } } : {}),
    });
    const r = new DatabaseRouter(pg.primary);
    router = r;
    // After PostgreSQL and against its drill database (the loader requires targets.postgres for it).
    if (scenario.targets.service) {
      service = await provisionService(scenario.targets.service, {
        runId: deps.runId,
        ledger: deps.ledger,
        teardown,
        recorder,
        signal: deps.signal,
        database: () => r.connection,
        ...(deps.runDir ? { logDir: path.join(deps.runDir, 'service-logs') } : {}),
      });
    }
  }
  // After PostgreSQL, so the application's DATABASE_URL Secret points at the drill's database. The
  // built-in system under drill gets, like the plain processes, an API token and a reader role.
  let k8s: KubernetesTarget | undefined;
  if (scenario.targets.kubernetes) {
    const r = router;
    const builtIn = scenario.targets.kubernetes.manifests === undefined;
    const credentials =
      r && builtIn ? await createServiceCredentials({ runId: deps.runId, database: () => r.connection, reader: true, recorder, teardown }) : undefined;
    const readerUrl = r && credentials?.reader ? databaseUrl(applicationConnection({ ...r.connection, user: credentials.reader.role, password: credentials.reader.password }, appHost)) : undefined;
    k8s = await provisionKubernetes(scenario.targets.kubernetes, {
      runId: deps.runId,
      clock,
      ledger: deps.ledger,
      teardown,
      recorder,
      signal: deps.signal,
      scenarioFile: deps.scenarioFile,
      databaseUrl: r ? databaseUrl(applicationConnection(r.connection, appHost)) : undefined,
      ...(readerUrl ? { readerDatabaseUrl: readerUrl } : {}),
    });
    if (credentials) {
      service = new KubernetesService(k8s.api, k8s.namespace, credentials.token, await runningRelease(k8s.api, k8s.namespace));
      recorder.event('service', `${service.description}; API token ${credentials.tokenName} created, reader role ${credentials.reader?.role ?? '-'}`, { tokenName: credentials.tokenName });
    }
  }
  if (router) {
    const r = router;
    let channel: ApiCanaryChannel | undefined;
    if (scenario.workload.canary.via === 'api') {
      const s = need(service, 'the API canary (via: api)', 'service');
      channel = new ApiCanaryChannel(s, s.token, r);
    }
    const w = new CanaryWriter({
      ...(channel ? { channel } : {}),
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
  return {
    runId: deps.runId,
    scenario,
    clock,
    recorder,
    signal: deps.signal,
    teardown,
    ledger: deps.ledger,
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
    get service() {
      return need(service, 'the service under drill', 'service');
    },
    hasService: service !== undefined,
    hasPostgres: pg !== undefined,
    restorePoints: new Map<string, RestorePoint>(),
    recoveredInstances: [],
    confirmDataLoss: deps.confirmDataLoss,
    migrations: new DeployedMigrations(),
    applicationDatabaseUrl: (connection) => databaseUrl(applicationConnection(connection, appHost)),
    probeGate: new ProbeGate(),
  };
}
