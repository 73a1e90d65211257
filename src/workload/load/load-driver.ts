import type { ResourceLedger } from '../../engine/resource-ledger.js';

/** One bounded load run, as the driver that made it measured it. */
export interface LoadDriverInput {
  /** Full URLs (an endpoint and the path); the connections are spread over them. */
  urls: string[];
  requests: number;
  connections: number;
  durationMs: number;
  requestTimeoutMs: number;
  /** Bearer token for /api/* paths; never on a command line or in a child's environment. */
  token?: string;
  signal?: AbortSignal;
  /** Where a driver that starts a program (ab, k6) records it and its temp dir, for the reaper after a kill -9. */
  ledger?: ResourceLedger;
}

export interface LoadDriverResult {
  responses: number;
  durationMs: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  stoppedBy: 'requests' | 'duration';
}

export type LoadDriver = (input: LoadDriverInput) => Promise<LoadDriverResult>;
