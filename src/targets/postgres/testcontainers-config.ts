import { DrillError } from '../../engine/errors.js';
export { formatSettings } from './data-directory.js';

/** Where things live inside the container (the image's postgres user owns /var/lib/postgresql). */
export const CONTAINER_PATHS = {
  pgdata: '/var/lib/postgresql/data',
  home: '/var/lib/postgresql/drill',
  backups: '/var/lib/postgresql/drill/backups',
  /** One directory per further server (replica or restored copy): its data directory and log. */
  instances: '/var/lib/postgresql/drill/instances',
  archive: '/var/lib/postgresql/drill/archive',
  sockets: '/var/run/postgresql',
} as const;

export const PRIMARY_PORT = 5432;
/**
 * Replicas and restored instances run in the same container on these ports. Docker publishes only
 * ports declared before the container starts, so they are declared up front; their number caps the
 * servers a drill can add (replicas + restores).
 */
export const INSTANCE_PORTS = [5433, 5434, 5435, 5436, 5437, 5438] as const;

export const DEFAULT_PG_VERSION = 15;

export interface TestcontainersPostgresSpec {
  runId: string;
  /** Labels the container apart from every other deployment, so a reaper removes exactly it. */
  deploymentId: string;
  /** PostgreSQL major version (targets.postgres.version). */
  version?: number;
  /** targets.postgres.image; default the official postgres:<version>-alpine. */
  image?: string;
}

export interface TestcontainersPostgresConfig {
  image: string;
  env: Record<string, string>;
  /** Container command: a shell that runs the image's entrypoint with the primary's settings. */
  command: string[];
  primaryPort: number;
  instancePorts: number[];
  exposedPorts: number[];
  labels: Record<string, string>;
  /** Docker health check: the primary accepts connections on TCP (the image's init server listens on its socket only). */
  healthCheck: ['CMD-SHELL', string];
  /** The primary's settings: on its command line at first start, then in its postgresql.conf. */
  settings: Record<string, string | number>;
}

type Settings = Record<string, string | number>;

export function archiveDirOf(instanceName: string): string {
  return `${CONTAINER_PATHS.archive}/${instanceName}`;
}

/** Creates its directory itself: the image's init server already archives, before any exec could. */
function archiveCommand(dir: string): string {
  return `mkdir -p '${dir}' && test ! -f '${dir}/%f' && cp '%p' '${dir}/%f'`;
}

/**
 * The postmaster must not be the container's PID 1: the kernel drops SIGKILL sent to PID 1 from
 * inside its namespace, so kill() could not crash it, and its death would end the container, so
 * start() could not follow. This shell is PID 1 instead, outlives the server and reaps orphans.
 */
const SUPERVISOR = [
  "trap 'exit 0' TERM INT",
  'docker-entrypoint.sh "$@" &',
  'while :; do sleep 3600 & wait $!; done',
].join('\n');

/** The image a scenario runs: its own, else the official image of its major version. */
export function imageFor(spec: Pick<TestcontainersPostgresSpec, 'image' | 'version'>): string {
  return spec.image ?? `postgres:${spec.version ?? DEFAULT_PG_VERSION}-alpine`;
}

/** Every container setting of the testcontainers provider, as data (no Docker needed to check it). */
export function testcontainersPostgresConfig(spec: TestcontainersPostgresSpec): TestcontainersPostgresConfig {
  const settings: Settings = {
    listen_addresses: '*',
    port: PRIMARY_PORT,
    wal_level: 'replica',
    archive_mode: 'on',
    archive_command: archiveCommand(archiveDirOf('primary')),
    max_wal_senders: 10,
    shared_buffers: '32MB',
    max_connections: 50,
    log_line_prefix: '%m [%p] ',
  };
  return {
    image: imageFor(spec),
    env: {
      POSTGRES_INITDB_ARGS: '--data-checksums',
      // Explicit, because the image's default moved with PostgreSQL 18.
      PGDATA: CONTAINER_PATHS.pgdata,
    },
    command: ['sh', '-c', SUPERVISOR, 'drill-supervisor', 'postgres', ...settingsArgs(settings)],
    primaryPort: PRIMARY_PORT,
    instancePorts: [...INSTANCE_PORTS],
    exposedPorts: [PRIMARY_PORT, ...INSTANCE_PORTS],
    labels: { 'drill.run-id': spec.runId, 'drill.deployment': spec.deploymentId, 'drill.role': 'postgres' },
    // No password: pg_isready only asks whether the server accepts connections, and loopback is
    // trusted inside the container. testcontainers' default check would put the password in the
    // container's configuration, where `docker inspect` shows it.
    healthCheck: ['CMD-SHELL', `pg_isready --host 127.0.0.1 --port ${PRIMARY_PORT} --username postgres --dbname postgres`],
    settings,
  };
}

/** The name goes into a shell command (archive_command) and into paths. */
export function requireInstanceName(instanceName: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(instanceName)) {
    throw new DrillError('BAD_INSTANCE_NAME', `instance name "${instanceName}" may use letters, digits, ".", "_" and "-" only`);
  }
}

/**
 * Settings of a further server in the container (a replica or a restored copy): the primary's,
 * with its own port and archive. They are appended to the copied postgresql.conf, after the
 * primary's own lines, so they win.
 */
export function instanceSettings(base: Settings, instanceName: string, port: number): Settings {
  requireInstanceName(instanceName);
  return {
    ...base,
    port,
    unix_socket_directories: CONTAINER_PATHS.sockets,
    archive_command: archiveCommand(archiveDirOf(instanceName)),
  };
}

export function settingsArgs(settings: Settings): string[] {
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}
