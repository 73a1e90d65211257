import type { ConnectionInfo } from '../postgres/types.js';

/** Which of the service's front doors a client talks to. */
export type ServiceComponent = 'api' | 'reader';

export interface ServiceEndpoint {
  /** An instance name (a process, or a pod), for journals and messages. */
  name: string;
  /** `http://host:port`, no trailing slash. */
  url: string;
}

/**
 * Where clients reach the service right now: what a load balancer in front of it would send
 * traffic to. Plain processes: the running processes of the current launch. Kubernetes: the ready
 * endpoints of the Service's EndpointSlices. Asked again before every request, so a restart or a
 * rollout that moves the service is followed.
 */
export interface ServiceEndpoints {
  endpoints(component?: ServiceComponent): Promise<ServiceEndpoint[]>;
}

/** Error-level log lines of the service's instances (plain processes: their log files; Kubernetes: the logs API). */
export interface ErrorLogSource {
  /** Error-level lines written so far: a counter that only grows (readers take differences, so several can read it). */
  errorLines(): Promise<number>;
}

export interface RestartOptions {
  /** Deploy this release with the restart (default: the one running). */
  version?: string;
  /** Which modes restart (default: every mode that runs). */
  modes?: readonly string[];
  /**
   * The wall clock the new processes see (plain processes: libfaketime): offset 0 is the true
   * clock. Default: as before the restart (a restart on a host whose clock is wrong keeps it wrong).
   */
  clock?: { offsetMs: number; library?: string };
  signal?: AbortSignal;
}

/**
 * The service under drill as the workload and the procedures see it. The required part is what
 * every implementation offers; the optional members are capabilities a procedure checks for
 * (never `instanceof`): a Kubernetes implementation moves the service with its own steps
 * (Secret patch, rollout) and leaves `followDatabase`/`restart` out.
 */
export interface ServiceTarget extends ServiceEndpoints {
  /** What it is, for the journal: e.g. "TrustStram 4.4.0 as plain processes (api ×2, worker ×1)". */
  readonly description: string;
  /** The release running now. */
  readonly version: string;
  /** The bearer token the drill created for the API. Held in memory only: never journaled, logged or passed to a child. */
  readonly token: string;
  /** The name of the drill's token in the service's token table (for revocations and journals), where the drill created it. */
  readonly tokenName?: string;
  /**
   * Gives the drill's clients (probes, canary, smoke) a new token from their next request on, as a
   * credential rotation does for legitimate users after an emergency revocation. The caller has
   * created and registered it as a secret.
   */
  replaceToken?(token: string): void;
  /** Every instance that serves /metrics (every mode), for monitoring. */
  metricsEndpoints(): Promise<ServiceEndpoint[]>;
  readonly errorLogs?: ErrorLogSource;
  /**
   * Container restarts of the service's instances so far (Kubernetes: the pods' restart counts,
   * the runbook's "pod restarts"), a counter that only grows; absent where processes are not
   * restarted in place (plain processes).
   */
  readonly restarts?: { total(): Promise<number> };
  /**
   * Optional capability, only where the service's processes run on this machine: plain processes
   * the drill started (identity as recorded in the resource ledger), or the containers of the
   * service's pods on nodes that run here (found by their container IDs). Each running process by
   * name and identity (pid + start time): what a memory dump may read and nothing else.
   */
  localProcesses?(): LocalServiceProcess[] | Promise<LocalServiceProcess[]>;
  /** Re-points the service at another database (what `switch-workload` does to DATABASE_URL) and waits until it is healthy there. */
  followDatabase?(connection: ConnectionInfo, signal?: AbortSignal): Promise<Record<string, unknown>>;
  /** Restarts the service (optionally deploying another release) and waits until it is healthy. */
  restart?(options: RestartOptions): Promise<Record<string, unknown>>;
}

/** A process of the service on this machine, named and identified for a memory dump. */
export interface LocalServiceProcess {
  name: string;
  mode: string;
  pid: number;
  startTime: string | undefined;
}
