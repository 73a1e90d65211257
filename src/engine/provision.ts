import type { Scenario } from '../scenario/schema.js';
import { choosePostgresProvider } from '../targets/postgres/choose-provider.js';
import { NativeDeployment } from '../targets/postgres/native-deployment.js';
import type { PostgresDeployment } from '../targets/postgres/types.js';
import { createDataset } from '../workload/dataset.js';
import type { Clock } from './clock.js';
import { EnvironmentError } from './errors.js';
import type { JournalRecorder } from './journal-recorder.js';
import type { ResourceLedger } from './resource-ledger.js';
import type { TeardownStack } from './teardown-stack.js';

export interface ProvisionOptions {
  runId: string;
  clock: Clock;
  ledger: ResourceLedger;
  teardown: TeardownStack;
  recorder: JournalRecorder;
}

/** Stands up the scenario's PostgreSQL with the drill's data set; teardown is registered first. */
export async function provisionPostgres(scenario: Scenario, options: ProvisionOptions): Promise<PostgresDeployment> {
  const spec = scenario.targets.postgres;
  const provider = await choosePostgresProvider(spec.provider);
  options.recorder.event('provider', `PostgreSQL provider: ${provider.name} (${provider.why})`);
  if (provider.name !== 'native') {
    throw new EnvironmentError(
      'PROVIDER_NOT_RUNNABLE',
      `the ${provider.name} PostgreSQL provider cannot run this drill here yet; use provider: native`,
    );
  }
  let created: NativeDeployment | undefined;
  options.teardown.push('remove PostgreSQL deployment', async () => {
    await created?.dispose();
  });
  const deployment = await NativeDeployment.create(
    { runId: options.runId, clock: options.clock, ledger: options.ledger },
    (d) => (created = d),
  );
  const version = await deployment.primary.serverVersion();
  options.recorder.journal.components.postgresql = version;
  options.recorder.journal.components.postgresProvider = provider.name;
  if (spec.version && !version.startsWith(`${spec.version}.`) && !version.startsWith(`${spec.version} `)) {
    throw new EnvironmentError(
      'PG_VERSION_MISMATCH',
      `the scenario wants PostgreSQL ${spec.version} but the binaries found are ${version}; set DRILL_PG_BINDIR or change targets.postgres.version`,
    );
  }
  await createDataset(deployment.primary.connection, spec.dataset);
  return deployment;
}
