import { RELEASES, knownVersions, type Release } from './releases.js';

export const MODES = ['api', 'worker', 'scheduler', 'reader'] as const;
export type Mode = (typeof MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServiceConfig {
  mode: Mode;
  /** The connection the service uses: READER_DATABASE_URL in reader mode when set, else DATABASE_URL. */
  databaseUrl: string;
  readOnly: boolean;
  release: Release;
  region: string;
  colour: 'blue' | 'green';
  port: number;
  bind: string;
  logLevel: LogLevel;
  /** Names this process in logs, heartbeats and processed queue items (a pod name, or a launcher's id). */
  instance: string;
  workerPollMs: number;
  schedulerIntervalMs: number;
}

/** A configuration value that is missing or malformed: the variable's name and what to set it to. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The service's whole configuration, from the environment only (a ConfigMap and a Secret in
 * Kubernetes, an explicit environment for plain processes). `modeArg`/`instanceArg` come from argv
 * and win over MODE/INSTANCE. Throws ConfigError naming the first bad variable; a value is never
 * echoed, since DATABASE_URL carries a password.
 */
export function parseConfig(env: Env, args: { mode?: string; instance?: string } = {}): ServiceConfig {
  const mode = oneOf('MODE', args.mode ?? env.MODE, MODES, undefined);
  const readerUrl = env.READER_DATABASE_URL;
  const useReaderUrl = mode === 'reader' && readerUrl !== undefined && readerUrl !== '';
  const databaseUrl = postgresUrl(useReaderUrl ? 'READER_DATABASE_URL' : 'DATABASE_URL', useReaderUrl ? readerUrl : env.DATABASE_URL);
  const version = required('VERSION', env.VERSION);
  const release = RELEASES[version];
  if (!release) {
    throw new ConfigError('VERSION', `VERSION ${JSON.stringify(version)} is not a TrustStram release; known releases: ${knownVersions().join(', ')}`);
  }
  return {
    mode,
    databaseUrl,
    readOnly: oneOf('READ_ONLY_MODE', env.READ_ONLY_MODE, ['true', 'false'] as const, 'false') === 'true',
    release,
    region: nonEmpty('REGION', env.REGION, 'local'),
    colour: oneOf('COLOUR', env.COLOUR, ['blue', 'green'] as const, 'blue'),
    port: integer('PORT', env.PORT, 8080, 0, 65_535),
    bind: nonEmpty('BIND', env.BIND, '127.0.0.1'),
    logLevel: oneOf('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'info'),
    // Kubernetes sets HOSTNAME to the pod's name.
    instance: nonEmpty('INSTANCE', args.instance ?? env.INSTANCE, env.HOSTNAME || `${mode}-${process.pid}`),
    workerPollMs: integer('WORKER_POLL_MS', env.WORKER_POLL_MS, 500, 10, 60_000),
    schedulerIntervalMs: integer('SCHEDULER_INTERVAL_MS', env.SCHEDULER_INTERVAL_MS, 5_000, 50, 3_600_000),
  };
}

function required(variable: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new ConfigError(variable, `${variable} is not set`);
  return value.trim();
}

function nonEmpty(variable: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (value.trim() === '') throw new ConfigError(variable, `${variable} is set but empty; unset it for the default (${fallback}) or give a value`);
  return value.trim();
}

function oneOf<T extends string>(variable: string, value: string | undefined, allowed: readonly T[], fallback: T | undefined): T {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(variable, `${variable} is not set; one of ${allowed.join(', ')}`);
  }
  const normalised = value.trim().toLowerCase();
  const found = allowed.find((a) => a === normalised);
  if (!found) throw new ConfigError(variable, `${variable}=${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return found;
}

function integer(variable: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new ConfigError(variable, `${variable}=${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function postgresUrl(variable: string, value: string | undefined): string {
  const url = required(variable, value);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The value itself is never repeated: it holds a password.
    throw new ConfigError(variable, `${variable} is not a URL; expected postgresql://user:password@host:port/database`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new ConfigError(variable, `${variable} has scheme ${parsed.protocol} ; expected postgresql://user:password@host:port/database`);
  }
  if (!parsed.hostname || parsed.pathname.length <= 1) {
    throw new ConfigError(variable, `${variable} names no host or no database; expected postgresql://user:password@host:port/database`);
  }
  return url;
}
