import { parsePrometheusText } from './prometheus-text.js';

/**
 * The service's HTTP counters at one scrape (sut/truststream/src/metrics.ts): requests by status
 * and the latency histogram's cumulative buckets, summed over routes. Requests to /metrics are
 * left out: they are the monitor's own.
 */
export interface HttpCounters {
  requests: number;
  /** Requests answered 5xx. */
  serverErrors: number;
  /** Cumulative count per upper bound `le` (seconds; Infinity for +Inf), summed over routes. */
  buckets: Map<number, number>;
}

const REQUESTS = 'truststream_http_requests_total';
const BUCKET = 'truststream_http_request_duration_seconds_bucket';
const OWN_ROUTE = '/metrics';

export function httpCounters(text: string): HttpCounters {
  const counters: HttpCounters = { requests: 0, serverErrors: 0, buckets: new Map() };
  for (const s of parsePrometheusText(text)) {
    if (s.labels.route === OWN_ROUTE) continue;
    if (s.name === REQUESTS) {
      counters.requests += s.value;
      if (/^5\d\d$/.test(s.labels.status ?? '')) counters.serverErrors += s.value;
    } else if (s.name === BUCKET && s.labels.le !== undefined) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (!Number.isNaN(le)) counters.buckets.set(le, (counters.buckets.get(le) ?? 0) + s.value);
    }
  }
  return counters;
}

export const ZERO_COUNTERS: HttpCounters = { requests: 0, serverErrors: 0, buckets: new Map() };

/**
 * What happened between two scrapes of one process. Counters only grow while a process lives; a
 * value below the previous one means the process restarted (its counters began again at 0), so
 * the new value is the whole increase, as Prometheus' rate() treats a counter reset.
 */
export function counterDelta(previous: HttpCounters, current: HttpCounters): HttpCounters {
  const reset =
    current.requests < previous.requests ||
    current.serverErrors < previous.serverErrors ||
    [...current.buckets].some(([le, n]) => n < (previous.buckets.get(le) ?? 0));
  const base = reset ? ZERO_COUNTERS : previous;
  const buckets = new Map<number, number>();
  for (const [le, n] of current.buckets) buckets.set(le, n - (base.buckets.get(le) ?? 0));
  return { requests: current.requests - base.requests, serverErrors: current.serverErrors - base.serverErrors, buckets };
}

/** Sums deltas of several processes (their buckets share the service's bounds). */
export function sumCounters(list: readonly HttpCounters[]): HttpCounters {
  const sum: HttpCounters = { requests: 0, serverErrors: 0, buckets: new Map() };
  for (const c of list) {
    sum.requests += c.requests;
    sum.serverErrors += c.serverErrors;
    for (const [le, n] of c.buckets) sum.buckets.set(le, (sum.buckets.get(le) ?? 0) + n);
  }
  return sum;
}

/**
 * The q-quantile (0..1) of a cumulative histogram, in milliseconds, as PromQL's
 * histogram_quantile estimates it: linear within the bucket the rank falls in (from 0 for the
 * first); in the +Inf bucket, the largest finite bound (all that is known). Undefined when the
 * histogram counted nothing.
 */
export function histogramQuantileMs(buckets: ReadonlyMap<number, number>, q: number): number | undefined {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (sorted.length === 0 || total <= 0 || sorted.at(-1)![0] !== Infinity) return undefined;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank && count > previousCount) {
      if (le === Infinity) return previousLe * 1000;
      return (previousLe + (le - previousLe) * ((rank - previousCount) / (count - previousCount))) * 1000;
    }
    previousLe = le === Infinity ? previousLe : le;
    previousCount = count;
  }
  return previousLe * 1000;
}
