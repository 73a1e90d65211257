import type { ServiceTarget } from '../../targets/service/types.js';
import { counterDelta, httpCounters, sumCounters, type HttpCounters } from '../metrics/http-metrics.js';
import type { ProbeCheck } from './probe.js';

/**
 * The runbook's "Monitor error rates" as a probe: each check scrapes every instance's /metrics and
 * fails when, since the previous check, more than `max` of the requests the service answered were
 * 5xx. A probe's first check has no previous one: it scrapes twice, `intervalMs` apart (within its
 * timeout), so even a probe built for one check (an automation's health check) judges a real
 * interval instead of passing on no data. Too few requests to judge (under `minRequests`) passes:
 * silence is not an outage here; the health probes say whether the service answers at all. Not
 * knowing is not silence, though: a check where no instance's /metrics answered (or there was no
 * instance) fails, so a breaker counting these checks is never reset by a scrape that saw nothing.
 * An instance first seen in a later check (a new pod) is counted from 0, like a counter reset.
 */
export class ErrorRateProbe implements ProbeCheck {
  private readonly previous = new Map<string, HttpCounters>();
  private primed = false;

  constructor(
    readonly name: string,
    private readonly target: ServiceTarget,
    private readonly max: number,
    private readonly minRequests: number,
    readonly intervalMs: number,
    readonly timeoutMs: number,
    readonly service: boolean,
  ) {}

  async check(signal: AbortSignal): Promise<void> {
    if (!this.primed) {
      await this.scrape(signal);
      await new Promise((r) => setTimeout(r, Math.min(this.intervalMs, this.timeoutMs / 2)));
    }
    const { sum, tried, answered } = await this.scrape(signal);
    if (answered === 0) {
      throw new Error(tried === 0 ? 'no instance to scrape: the service has no ready instance' : `no instance's /metrics answered (${tried} tried): the error rate is unknown`);
    }
    if (sum.requests < this.minRequests) return;
    const rate = sum.serverErrors / sum.requests;
    if (rate > this.max) {
      throw new Error(`5xx rate ${percent(rate)} above ${percent(this.max)}: ${sum.serverErrors} of ${sum.requests} requests since the last check`);
    }
  }

  /** What every instance answered since the previous scrape (nothing on the very first). */
  private async scrape(signal: AbortSignal): Promise<{ sum: HttpCounters; tried: number; answered: number }> {
    const endpoints = await this.target.metricsEndpoints();
    const scraped = await Promise.all(
      endpoints.map(async (e) => {
        const response = await fetch(`${e.url}/metrics`, { signal }).catch(() => undefined);
        return { url: e.url, counters: response?.ok ? httpCounters(await response.text()) : undefined };
      }),
    );
    const deltas: HttpCounters[] = [];
    for (const { url, counters } of scraped) {
      if (!counters) continue;
      const before = this.previous.get(url);
      if (before || this.primed) deltas.push(counterDelta(before ?? { requests: 0, serverErrors: 0, buckets: new Map() }, counters));
      this.previous.set(url, counters);
    }
    this.primed = true;
    return { sum: sumCounters(deltas), tried: scraped.length, answered: scraped.filter((s) => s.counters).length };
  }

  async close(): Promise<void> {
    this.previous.clear();
  }
}

function percent(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}
