import { redactSecrets } from '../../report/redact.js';
import type { Scenario } from '../../scenario/schema.js';
import { choosePostgresProvider, type PostgresProviderName } from './choose-provider.js';
import { ExternalDeployment } from './external-deployment.js';
import { NativeDeployment, type NativeDeploymentOptions } from './native-deployment.js';
import type { PostgresDeployment } from './types.js';
import { createDataset } from '../../workload/dataset.js';
import type { Clock } from '../../engine/clock.js';
import { requireDrillfs } from '../process/drillfs-binary.js';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import type { JournalRecorder } from '../../engine/journal-recorder.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import type { TeardownStack } from '../../engine/teardown-stack.js';
import { startReplicationLink } from '../network-proxy/replication-link.js';
import type { ToxiproxyLink } from '../network-proxy/toxiproxy-link.js';

export interface ProvisionOptions {
  runId: string;
  clock: Clock;
  ledger: ResourceLedger;
  teardown: TeardownStack;
  recorder: JournalRecorder;
  /** The drill network's host address, when the system under drill runs in pods there (src/targets/network). */
  hostAddress?: NativeDeploymentOptions['hostAddress'];
  /** Where each instance listens (targets.regions: the primary and the replica in their regions' ranges); native provider only. */
  placement?: NativeDeploymentOptions['placement'];
  /** A network fault acts on the replication link: the replicas stream through a proxy made before them. */
  replicationLink?: boolean;
  /** Where that proxy listens (region-partition: the DR region's link address); default 127.0.0.1. */
  replicationLinkHost?: string;
  signal?: AbortSignal;
}

type PostgresSpec = NonNullable<Scenario['targets']['postgres']>;

/** Stands up the scenario's PostgreSQL with the drill's data set; teardown is registered first. */
export async function provisionPostgres(spec: PostgresSpec, options: ProvisionOptions): Promise<PostgresDeployment> {
  const provider = await choosePostgresProvider(spec.provider, undefined, Boolean(spec.url));
  options.recorder.event('provider', `PostgreSQL provider: ${provider.name} (${provider.why})`);
  // Refused before anything connects: the data set is created, then damaged, on the target itself.
  // The scenario's flag is the author's intent; the server's own marker is checked once connected.
  if (provider.name === 'external' && !spec.drillTarget) {
    throw new InputError(
      'NOT_A_DRILL_TARGET',
      `the drill creates a "drill" database on the external PostgreSQL${spec.url ? ` (${redactSecrets(spec.url)})` : ''} and damages it, ` +
        'and the scenario does not mark it as a drill target; point targets.postgres.url at a server you are prepared to lose, ' +
        'set targets.postgres.drillTarget: true, and mark the server itself (see the README, "External PostgreSQL"). Nothing was touched.',
    );
  }
  if (options.placement && provider.name !== 'native') {
    throw new EnvironmentError(
      'REGIONS_NEED_NATIVE_POSTGRES',
      `targets.regions puts the primary and its replica on the regions' loopback ranges, which only the native provider can do (chosen: ${provider.name}, ${provider.why}); ` +
        'set targets.postgres.provider: native and install PostgreSQL (npm run setup)',
    );
  }
  if (spec.walVolume && provider.name !== 'native') {
    // The schema rule wants provider: native; this guards a provider chosen some other way.
    throw new EnvironmentError('WAL_VOLUME_UNSUPPORTED', `targets.postgres.walVolume is mounted on this machine by the native provider only, and the ${provider.name} provider was chosen; set provider: native`);
  }
  if (options.replicationLink && provider.name !== 'native') {
    // The schema rule refuses an explicit other provider; this is auto choosing one.
    throw new EnvironmentError(
      'REPLICATION_LINK_NEEDS_NATIVE',
      `a network fault with link: replication has the replicas stream through a proxy on this machine's loopback, which only the native provider's replicas reach (chosen: ${provider.name}, ${provider.why}); ` +
        'set targets.postgres.provider: native and install PostgreSQL (npm run setup)',
    );
  }
  if (spec.dataPassthrough && provider.name !== 'native') {
    throw new EnvironmentError('DATA_PASSTHROUGH_UNSUPPORTED', `targets.postgres.dataPassthrough is mounted on this machine by the native provider only, and the ${provider.name} provider was chosen; set provider: native`);
  }
  if (spec.dataVolume && provider.name !== 'native') {
    throw new EnvironmentError('DATA_VOLUME_UNSUPPORTED', `targets.postgres.dataVolume is mounted on this machine by the native provider only, and the ${provider.name} provider was chosen; set provider: native`);
  }
  let created: PostgresDeployment | undefined;
  options.teardown.push('remove PostgreSQL deployment', async () => {
    await created?.dispose();
  });
  // Passwords the deployment generates are registered with the run's Redactor as they are made.
  const base = { runId: options.runId, clock: options.clock, ledger: options.ledger, secrets: options.recorder.secrets, ...(options.hostAddress ? { hostAddress: options.hostAddress } : {}), ...(options.placement ? { placement: options.placement } : {}) };
  const deployment = await createDeployment(provider.name, spec, base, (d) => (created = d));
  // A server the drill did not create proves it is a drill target before anything is written to it.
  await deployment.confirmDrillTarget?.();
  const version = await deployment.primary.serverVersion();
  options.recorder.journal.components.postgresql = version;
  options.recorder.journal.components.postgresProvider = provider.name;
  if (spec.version && !version.startsWith(`${spec.version}.`) && !version.startsWith(`${spec.version} `)) {
    throw new EnvironmentError(
      'PG_VERSION_MISMATCH',
      `the scenario wants PostgreSQL ${spec.version} but the ${provider.name} server is ${version}; ${VERSION_HINT[provider.name]}`,
    );
  }
  const link = options.replicationLink && spec.replicas > 0 ? await replicationLink(deployment, options) : undefined;
  // Before the data set, so the replicas get it by streaming, as production replicas would.
  for (let i = 1; i <= spec.replicas; i++) {
    const replica = await deployment.createReplica(`replica-${i}`, { synchronous: spec.replication === 'sync', ...(link ? { upstream: link.listen } : {}) });
    options.recorder.event('replica', `${replica.name} streams from ${deployment.primary.name} (${spec.replication})${link ? ` through ${link.description}` : ''}`, {
      port: replica.connection.port,
      ...(link ? { through: `${link.listen.host}:${link.listen.port}` } : {}),
    });
  }
  const dataset = await createDataset(deployment.primary.connection, spec.dataset);
  options.recorder.journal.components.schemaVersion = dataset.schemaVersion;
  options.recorder.event('schema-migrations', `schema at version ${dataset.schemaVersion}: applied ${dataset.migrations.join(', ')}`, { ...dataset });
  return deployment;
}

/** The replication link's proxy in front of the primary, attached to the deployment for the faults that degrade it. */
async function replicationLink(deployment: PostgresDeployment, options: ProvisionOptions): Promise<ToxiproxyLink> {
  const link = await startReplicationLink(deployment.primary, {
    ledger: options.ledger,
    teardown: options.teardown,
    runId: options.runId,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.replicationLinkHost ? { host: options.replicationLinkHost } : {}),
  });
  deployment.replicationLink = link;
  options.recorder.journal.components.toxiproxy = link.version;
  options.recorder.event('network', `${link.description} in front of ${deployment.primary.name}: the replicas stream WAL through it`, {
    link: 'replication',
    listen: `${link.listen.host}:${link.listen.port}`,
    upstream: `${deployment.primary.connection.host}:${deployment.primary.connection.port}`,
  });
  return link;
}

const VERSION_HINT: Record<PostgresProviderName, string> = {
  native: 'set DRILL_PG_BINDIR to other binaries or change targets.postgres.version',
  testcontainers: 'set targets.postgres.image (or DRILL_POSTGRES_IMAGE) to an image of that version, or change targets.postgres.version',
  external: 'point targets.postgres.url at another server or change targets.postgres.version',
};

async function createDeployment(
  name: PostgresProviderName,
  spec: PostgresSpec,
  base: NativeDeploymentOptions,
  register: (d: PostgresDeployment) => void,
): Promise<PostgresDeployment> {
  switch (name) {
    case 'native':
      return NativeDeployment.create(
        {
          ...base,
          ...(spec.walVolume ? { walVolume: { sizeBytes: spec.walVolume.sizeMiB * 1024 * 1024 } } : {}),
          ...(spec.dataVolume ? { dataVolume: { sizeBytes: spec.dataVolume.sizeMiB * 1024 * 1024 } } : {}),
          // What the machine lacks for it (FUSE, root, the built drillfs) is exit 3 before anything starts.
          ...(spec.dataPassthrough ? { dataPassthrough: { binary: requireDrillfs() } } : {}),
        },
        register,
      );
    case 'external':
      return ExternalDeployment.create({ ...base, url: spec.url, drillTarget: spec.drillTarget }, register);
    case 'testcontainers': {
      // Loaded only when used: testcontainers and its Docker client take about a second to import.
      const { TestcontainersDeployment } = await import('./testcontainers-deployment.js');
      const image = spec.image ?? (process.env.DRILL_POSTGRES_IMAGE || undefined);
      return TestcontainersDeployment.create({ ...base, version: spec.version, image }, register);
    }
  }
}
