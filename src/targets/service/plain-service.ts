import path from 'node:path';
import createDebug from 'debug';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { formatClockOffset } from '../../scenario/clock-offset.js';
import { databaseUrl } from '../kubernetes/database-url.js';
import type { ConnectionInfo } from '../postgres/types.js';
import { ErrorLineCounter } from './log-tail.js';
import type { ServiceEnvironment } from './service-environment.js';
import { ServiceProcesses, type ServiceMode } from './service-processes.js';
import type { ServiceSource } from './service-program.js';
import type { RestartOptions, ServiceComponent, ServiceEndpoint, ServiceTarget } from './types.js';

const debug = createDebug('drill:service');

const MODES: readonly ServiceMode[] = ['api', 'reader', 'worker', 'scheduler'];

export interface PlainServiceOptions {
  runId: string;
  ledger: ResourceLedger;
  version: string;
  /** Processes per mode; a mode with 0 does not run. */
  replicas: Readonly<Record<ServiceMode, number>>;
  /** The drill database, as the harness connects to it (the service uses the same role). */
  database: ConnectionInfo;
  /** The reader mode's read-only role (createReaderRole); required when readers run. */
  reader?: { role: string; password: string };
  /** The API token the drill created. */
  token: string;
  /** Its name in the token table. */
  tokenName?: string;
  readyTimeoutMs: number;
  /** The region it runs in (its REGION; src/targets/regions). */
  region?: string;
  /** Where process `index` of `mode` listens (a region's loopback range); default 127.0.0.1 on a free port. */
  address?: (mode: ServiceMode, index: number) => Promise<{ host: string; port: number }>;
  /** Where each launch's logs go (kept); default the launch's temp dir (removed with it). */
  logDir?: string;
  source?: ServiceSource;
  signal?: AbortSignal;
}

/**
 * TrustStram as plain processes for drills without Kubernetes: one ServiceProcesses launch per
 * mode against the drill's database. A restart (another release, or another database after a
 * switch) starts a new launch of each mode, waits until it answers /health 200, moves traffic
 * to it (endpoints() lists only current launches) and then stops the old one gracefully: clients
 * move before the old processes drain, and a request already on its way is finished by the drain.
 */
export class PlainService implements ServiceTarget {
  private readonly launches = new Map<ServiceMode, ServiceProcesses>();
  private readonly logs = new ErrorLineCounter();
  private generation = 0;
  private stopped = false;
  private currentVersion: string;
  private database: ConnectionInfo;
  private currentToken: string;
  /** The wall-clock offset of the running launch (clock-skew); 0: the machine's clock. */
  private clock: { offsetMs: number; library?: string } = { offsetMs: 0 };

  private constructor(private readonly options: PlainServiceOptions) {
    this.currentVersion = options.version;
    this.database = options.database;
    this.currentToken = options.token;
  }

  /** `register` gets the service before anything starts, so teardown can stop what a failed start left. */
  static async start(options: PlainServiceOptions, register: (service: PlainService) => void): Promise<PlainService> {
    const service = new PlainService(options);
    register(service);
    await service.launch(service.runningModes(), options.signal);
    return service;
  }

  get version(): string {
    return this.currentVersion;
  }

  get token(): string {
    return this.currentToken;
  }

  get tokenName(): string | undefined {
    return this.options.tokenName;
  }

  replaceToken(token: string): void {
    this.currentToken = token;
  }

  get description(): string {
    const counts = [...this.launches].map(([mode, launch]) => `${mode} ×${launch.instances.length}`).join(', ');
    const clock = this.clock.offsetMs !== 0 ? `, clock ${formatClockOffset(this.clock.offsetMs)}` : '';
    return `TrustStram ${this.currentVersion} as plain processes (${counts}${clock})`;
  }

  /** The wall-clock offset the running processes were started with (0: the machine's clock). */
  get clockOffsetMs(): number {
    return this.clock.offsetMs;
  }

  readonly errorLogs = { errorLines: async () => this.logs.count() };

  async endpoints(component: ServiceComponent = 'api'): Promise<ServiceEndpoint[]> {
    return this.running(this.launches.get(component));
  }

  async metricsEndpoints(): Promise<ServiceEndpoint[]> {
    return [...this.launches.values()].flatMap((launch) => this.running(launch));
  }

  /** The processes, pids and ports now running: for the journal. */
  instances(): Array<{ name: string; mode: ServiceMode; pid: number; url: string }> {
    return [...this.launches].flatMap(([mode, launch]) => launch.instances.map((i) => ({ name: i.name, mode, pid: i.process.pid, url: i.url })));
  }

  localProcesses(): Array<{ name: string; mode: ServiceMode; pid: number; startTime: string | undefined }> {
    return [...this.launches].flatMap(([mode, launch]) =>
      launch.instances.filter((i) => i.process.exit === undefined).map((i) => ({ name: i.name, mode, pid: i.process.pid, startTime: i.process.startTime })),
    );
  }

  async followDatabase(connection: ConnectionInfo, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const from = `${this.database.host}:${this.database.port}`;
    this.database = connection;
    const restarted = await this.restart({ ...(signal ? { signal } : {}) });
    return { database: { from, to: `${connection.host}:${connection.port}` }, ...restarted };
  }

  async restart(options: RestartOptions): Promise<Record<string, unknown>> {
    const modes = (options.modes ?? this.runningModes()).filter((m): m is ServiceMode => this.runningModes().includes(m as ServiceMode));
    const fromVersion = this.currentVersion;
    const fromClock = this.clock;
    const previous = modes.map((mode) => this.launches.get(mode));
    if (options.version) this.currentVersion = options.version;
    if (options.clock) {
      // One host, one clock: a clock change restarts every mode, never some.
      if (options.modes) throw new Error('a restart that changes the clock restarts every mode (no `modes`)');
      if (options.clock.offsetMs !== 0 && !options.clock.library) throw new Error('a clock offset needs the libfaketime library (requireLibfaketime)');
      this.clock = options.clock;
    }
    try {
      await this.launch(modes, options.signal);
    } catch (error) {
      // The old processes keep serving (a launch replaces them only once ready): the release
      // (and clock) that did not come up is not the one running.
      this.currentVersion = fromVersion;
      this.clock = fromClock;
      throw error;
    }
    await Promise.all(previous.map((launch) => launch?.stop()));
    return {
      version: { from: fromVersion, to: this.currentVersion },
      ...(options.clock ? { clock: { from: formatClockOffset(fromClock.offsetMs), to: formatClockOffset(this.clock.offsetMs) } } : {}),
      restarted: modes,
      instances: this.instances(),
    };
  }

  /**
   * SIGKILL of every process now, no drain (a region lost): returns what was killed once each has
   * exited. The service stays registered: teardown's stop() finds nothing left to stop.
   */
  async kill(): Promise<Array<{ name: string; pid: number }>> {
    const killed = this.live();
    await Promise.all(killed.map((i) => i.process.kill()));
    return killed.map((i) => ({ name: i.name, pid: i.process.pid }));
  }

  /** The processes that have not exited (an exited one's pid may be reused): what a signal may reach. */
  liveInstances(): Array<{ name: string; pid: number }> {
    return this.live().map((i) => ({ name: i.name, pid: i.process.pid }));
  }

  private live() {
    return [...this.launches.values()].flatMap((launch) => launch.instances.filter((i) => i.process.exit === undefined));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.launches.values()].map((launch) => launch.stop()));
  }

  private runningModes(): ServiceMode[] {
    return MODES.filter((mode) => (this.options.replicas[mode] ?? 0) > 0);
  }

  /** Starts a launch of each mode (in parallel), each ready before any replaces the one it succeeds. */
  private async launch(modes: readonly ServiceMode[], signal?: AbortSignal): Promise<void> {
    this.generation += 1;
    const generation = this.generation;
    const logDir = this.options.logDir ? path.join(this.options.logDir, `launch-${generation}`) : undefined;
    const started: ServiceProcesses[] = [];
    const address = this.options.address;
    try {
      await Promise.all(
        modes.map(async (mode) => {
          const launch = await ServiceProcesses.start(
            {
              runId: this.options.runId,
              mode,
              replicas: this.options.replicas[mode],
              environment: this.environment(mode),
              ledger: this.options.ledger,
              readyTimeoutMs: this.options.readyTimeoutMs,
              ...(logDir ? { logDir } : {}),
              ...(this.options.source ? { source: this.options.source } : {}),
              ...(address ? { address: (index: number) => address(mode, index) } : {}),
              ...(signal ? { signal } : {}),
            },
            (l) => {
              started.push(l);
              // Watched before the processes start, so the error lines of a start-up failure count too.
              for (let i = 1; i <= this.options.replicas[mode]; i++) this.logs.watch(path.join(logDir ?? l.dir, `truststream-${mode}-${i}.log`));
            },
          );
          return launch;
        }),
      );
    } catch (error) {
      await Promise.all(started.map((l) => l.stop()));
      throw error;
    }
    if (this.stopped) {
      await Promise.all(started.map((l) => l.stop()));
      return;
    }
    for (const launch of started) this.launches.set(launch.mode, launch);
    debug('launch %d ready: %s', generation, this.description);
  }

  private environment(mode: ServiceMode): ServiceEnvironment {
    const env: ServiceEnvironment = {
      databaseUrl: databaseUrl(this.database),
      version: this.currentVersion,
      // Quick enough that the smoke test's integration check is about the worker, not its poll.
      workerPollMs: 200,
      ...(this.options.region ? { region: this.options.region } : {}),
      ...(this.clock.offsetMs !== 0 ? { fakeTime: { library: this.clock.library!, offsetMs: this.clock.offsetMs } } : {}),
    };
    if (mode === 'reader') {
      if (!this.options.reader) throw new Error('reader processes need the reader role (createReaderRole)');
      env.readerDatabaseUrl = databaseUrl({ ...this.database, user: this.options.reader.role, password: this.options.reader.password });
    }
    return env;
  }

  private running(launch: ServiceProcesses | undefined): ServiceEndpoint[] {
    if (!launch) return [];
    return launch.instances.filter((i) => i.process.exit === undefined).map((i) => ({ name: i.name, url: i.url }));
  }
}
