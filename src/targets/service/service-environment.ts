import { fakeTimeVariables } from '../process/libfaketime.js';

/** The service's configuration for one launch; every variable the service reads, nothing else. */
export interface ServiceEnvironment {
  /** The service's DATABASE_URL (password included: it goes into the child's environment only). */
  databaseUrl: string;
  /** reader mode: the read-only role's URL (createReaderRole); without it the reader uses databaseUrl. */
  readerDatabaseUrl?: string;
  /** A release of the catalogue (sut/truststream/src/releases.ts). */
  version: string;
  region?: string;
  /** The loopback address to listen on (default 127.0.0.1; a region's processes each get one of its range). */
  bind?: string;
  colour?: 'blue' | 'green';
  readOnly?: boolean;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  workerPollMs?: number;
  schedulerIntervalMs?: number;
  /**
   * A clock-skew fault: libfaketime preloaded with this offset (src/targets/process/libfaketime.ts).
   * Only this child's environment carries it; nothing secret is in it.
   */
  fakeTime?: { library: string; offsetMs: number };
}

/**
 * The child's whole environment, built explicitly: the harness's own environment (its secrets,
 * DRILL_EVIDENCE_SIGNING_KEY, cloud credentials) never reaches the service; PATH is the only thing passed
 * through. Plain processes always bind loopback: `bind` must be in 127.0.0.0/8.
 */
export function childEnvironment(mode: string, port: number, env: ServiceEnvironment, path = process.env.PATH): Record<string, string> {
  const out: Record<string, string> = {
    PATH: path ?? '/usr/local/bin:/usr/bin:/bin',
    MODE: mode,
    DATABASE_URL: env.databaseUrl,
    VERSION: env.version,
    REGION: env.region ?? 'local',
    COLOUR: env.colour ?? 'blue',
    READ_ONLY_MODE: env.readOnly ? 'true' : 'false',
    PORT: String(port),
    BIND: loopback(env.bind ?? '127.0.0.1'),
    LOG_LEVEL: env.logLevel ?? 'info',
  };
  if (env.readerDatabaseUrl !== undefined) out.READER_DATABASE_URL = env.readerDatabaseUrl;
  if (env.workerPollMs !== undefined) out.WORKER_POLL_MS = String(env.workerPollMs);
  if (env.schedulerIntervalMs !== undefined) out.SCHEDULER_INTERVAL_MS = String(env.schedulerIntervalMs);
  if (env.fakeTime) Object.assign(out, fakeTimeVariables(env.fakeTime.library, env.fakeTime.offsetMs));
  return out;
}

function loopback(address: string): string {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) throw new Error(`service processes bind loopback (127.0.0.0/8) only, not ${address}`);
  return address;
}
