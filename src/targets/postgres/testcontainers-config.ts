import { DrillError } from '../../engine/errors.js';

/** Where things live inside the container (the image's postgres user owns /var/lib/postgresql). */
export const CONTAINER_PATHS = {
  pgdata: '/var/lib/postgresql/data',
  home: '/var/lib/postgresql/drill',
  backups: '/var/lib/postgresql/drill/backups',
  restores: '/var/lib/postgresql/drill/restores',
  archive: '/var/lib/postgresql/drill/archive',
  sockets: '/var/run/postgresql',
} as const;

export const PRIMARY_PORT = 5432;
/**
 * Restored instances run in the same container on these ports. Docker maps only ports declared
 * before the container starts, so they are declared up front; their number caps restores per drill.
 */
export const RESTORE_PORTS = [5433, 5434, 5435, 5436] as const;

export const DEFAULT_PG_VERSION = 15;

export interface TestcontainersPostgresSpec {
  runId: string;
  /** PostgreSQL major version (targets.postgres.version). */
  version?: number;
}

export interface TestcontainersPostgresConfig {
  image: string;
  env: Record<string, string>;
  /** Container command: a shell that runs the image's entrypoint with the primary's settings. */
  command: string[];
  primaryPort: number;
  restorePorts: number[];
  exposedPorts: number[];
  labels: Record<string, string>;
  /** The primary's settings: on its command line at first start, through pg_ctl -o after a stop. */
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

/** Every container setting of the testcontainers provider, as data (no Docker needed to check it). */
export function testcontainersPostgresConfig(spec: TestcontainersPostgresSpec): TestcontainersPostgresConfig {
  const version = spec.version ?? DEFAULT_PG_VERSION;
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
    image: `postgres:${version}-alpine`,
    env: {
      POSTGRES_INITDB_ARGS: '--data-checksums',
      // Explicit, because the image's default moved with PostgreSQL 18.
      PGDATA: CONTAINER_PATHS.pgdata,
    },
    command: ['sh', '-c', SUPERVISOR, 'drill-supervisor', 'postgres', ...settingsArgs(settings)],
    primaryPort: PRIMARY_PORT,
    restorePorts: [...RESTORE_PORTS],
    exposedPorts: [PRIMARY_PORT, ...RESTORE_PORTS],
    labels: { 'drill.run-id': spec.runId, 'drill.role': 'postgres' },
    settings,
  };
}

/** Settings appended to a restored copy's postgresql.conf (it inherits the primary's file). */
export function restoredSettings(instanceName: string, port: number): Settings {
  // The name goes into a shell command (archive_command) and into paths.
  if (!/^[A-Za-z0-9._-]+$/.test(instanceName)) {
    throw new DrillError('BAD_INSTANCE_NAME', `instance name "${instanceName}" may use letters, digits, ".", "_" and "-" only`);
  }
  return {
    listen_addresses: '*',
    port,
    unix_socket_directories: CONTAINER_PATHS.sockets,
    archive_command: archiveCommand(archiveDirOf(instanceName)),
  };
}

export function settingsArgs(settings: Settings): string[] {
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The settings as pg_ctl's -o string, which pg_ctl hands to a shell. */
export function pgCtlOptions(settings: Settings): string {
  return settingsArgs(settings).map(shellQuote).join(' ');
}

/** postgresql.conf lines, quoted as the server reads them; later lines win. */
export function formatSettings(settings: Settings, comment: string): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replaceAll("'", "''")}'`}`);
  return `\n# drill (${comment})\n${lines.join('\n')}\n`;
}
