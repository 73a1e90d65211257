import type { ServiceEndpoint } from '../targets/service/types.js';
import { clockOffsetBounds, type ClockOffsetBounds } from './clock-reading.js';

export interface ServiceClockReading {
  endpoint: string;
  /** The Date header as the process sent it. */
  date: string | null;
  /** Undefined without a parsable header. */
  bounds: ClockOffsetBounds | undefined;
  /** When the request was sent, on the drill's wall clock (ms since the epoch). */
  sentWallMs: number;
}

/**
 * Reads the clock of each endpoint as its clients see it: GET /livez (no database: the answer
 * comes even while the database is down) and the answer's Date header, bracketed by the drill's
 * own wall clock. The drill process is never skewed: it is the reference.
 */
export async function readServiceClocks(endpoints: readonly ServiceEndpoint[], timeoutMs: number, signal?: AbortSignal): Promise<ServiceClockReading[]> {
  return Promise.all(
    endpoints.map(async (endpoint) => {
      const sentWallMs = Date.now();
      const response = await fetch(`${endpoint.url}/livez`, {
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      const answeredWallMs = Date.now();
      const date = response.headers.get('date');
      return { endpoint: endpoint.name, date, bounds: clockOffsetBounds(date, sentWallMs, answeredWallMs), sentWallMs };
    }),
  );
}
