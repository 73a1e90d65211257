import { startClock } from '../../src/engine/clock.js';
import type { DrillContext, RestorePoint } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { NativeDeployment, type NativeDeploymentOptions } from '../../src/targets/postgres/native-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { createDataset } from '../../src/workload/dataset.js';
import { DatabaseRouter } from '../../src/workload/database-router.js';
import { ProbeGate } from '../../src/workload/probes/probe-gate.js';

/**
 * A real native PostgreSQL with the drill data set, and the parts of a DrillContext that injectors
 * and recovery steps use (no writer, no probes: tests drive them directly).
 */
export interface DrillDatabase {
  deployment: NativeDeployment;
  router: DatabaseRouter;
  ctx: DrillContext;
  recorder: JournalRecorder;
  dispose(): Promise<void>;
}

export async function drillDatabase(
  runId: string,
  size = { accounts: 50, transfers: 3000 },
  options: Partial<Pick<NativeDeploymentOptions, 'walVolume' | 'dataVolume' | 'ledger'>> = {},
): Promise<DrillDatabase> {
  const clock = startClock();
  let deployment: NativeDeployment | undefined;
  try {
    deployment = await NativeDeployment.create({ runId, clock, ledger: new ResourceLedger(undefined), ...options }, (d) => (deployment = d));
    await createDataset(deployment.primary.connection, size);
  } catch (error) {
    await deployment?.dispose();
    throw error;
  }
  const router = new DatabaseRouter(deployment.primary);
  const loaded = await loadScenarioFile('drills/scenarios/db-corruption-pitr.yaml');
  const recorder = new JournalRecorder(clock, runId, loaded);
  const abort = new AbortController();
  const ctx = {
    runId,
    scenario: loaded.scenario,
    clock,
    recorder,
    signal: abort.signal,
    teardown: new TeardownStack(),
    pg: deployment,
    router,
    has: (part: string) => part === 'pg' || part === 'router',
    restorePoints: new Map<string, RestorePoint>(),
    recoveredInstances: [] as PgInstance[],
    confirmDataLoss: false,
    probeGate: new ProbeGate(),
  } as unknown as DrillContext;
  const d = deployment;
  return { deployment: d, router, ctx, recorder, dispose: () => d.dispose() };
}

/** Runs SQL on the drill database of an instance and returns the rows. */
export async function sql<T extends Record<string, unknown>>(instance: PgInstance, text: string, params: unknown[] = []): Promise<T[]> {
  return withClient({ ...instance.connection, database: 'drill' }, async (c) => (await c.query<T>(text, params)).rows);
}

/** The error a query fails with (or undefined). */
export async function queryError(instance: PgInstance, text: string): Promise<string | undefined> {
  return sql(instance, text).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

export async function checksumFailures(instance: PgInstance): Promise<number> {
  const rows = await sql<{ n: string }>(instance, "select coalesce(checksum_failures, 0)::text as n from pg_stat_database where datname = 'drill'");
  return Number(rows[0]!.n);
}
