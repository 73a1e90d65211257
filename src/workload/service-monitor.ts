import createDebug from 'debug';
import type { Clock } from '../engine/clock.js';
import type { ServiceMonitorSample } from '../engine/journal-types.js';
import type { ServiceTarget } from '../targets/service/types.js';
import { counterDelta, histogramQuantileMs, httpCounters, sumCounters, ZERO_COUNTERS, type HttpCounters } from './metrics/http-metrics.js';

const debug = createDebug('drill:monitor');

const SCRAPE_TIMEOUT_MS = 2000;

export interface ServiceMonitorOptions {
  service: ServiceTarget;
  clock: Clock;
  intervalMs: number;
  record: (sample: ServiceMonitorSample) => void;
}

/**
 * The runbook's "Monitoring & Alerting During Recovery" for the service: every interval, each
 * instance's /metrics (requests, 5xx, latency histogram) and the error-level log lines written
 * since the last look. The journal gets the interval's figures: requests and 5xx per second, p50
 * and p99 from the histogram deltas. An instance seen for the first time after the first round
 * is a new process, so its counters are counted from 0. It observes only.
 */
export class ServiceMonitor {
  private readonly previous = new Map<string, HttpCounters>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private lastT: number | undefined;
  private lastErrorLines: number | undefined;
  private lastRestarts: number | undefined;

  constructor(private readonly options: ServiceMonitorOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round; exposed for tests. The first round only sets the starting point. */
  async sampleOnce(): Promise<ServiceMonitorSample | undefined> {
    const { service, clock } = this.options;
    const first = this.lastT === undefined;
    const endpoints = await service.metricsEndpoints();
    const scraped = await Promise.all(
      endpoints.map(async (e) => {
        try {
          const response = await fetch(`${e.url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return { url: e.url, counters: httpCounters(await response.text()) };
        } catch (error) {
          debug('scrape of %s failed: %s', e.name, String(error));
          return { url: e.url, counters: undefined };
        }
      }),
    );
    const totalErrorLines = await service.errorLogs?.errorLines().catch(() => undefined);
    const errorLogLines = totalErrorLines === undefined ? 0 : totalErrorLines - (this.lastErrorLines ?? totalErrorLines);
    if (totalErrorLines !== undefined) this.lastErrorLines = totalErrorLines;
    const totalRestarts = await service.restarts?.total().catch(() => undefined);
    const restarts = totalRestarts === undefined ? undefined : totalRestarts - (this.lastRestarts ?? totalRestarts);
    if (totalRestarts !== undefined) this.lastRestarts = totalRestarts;
    const t = clock.now();
    const deltas: HttpCounters[] = [];
    for (const { url, counters } of scraped) {
      if (!counters) continue;
      const before = this.previous.get(url) ?? (first ? undefined : ZERO_COUNTERS);
      if (before) deltas.push(counterDelta(before, counters));
      this.previous.set(url, counters);
    }
    const lastT = this.lastT;
    this.lastT = t;
    if (lastT === undefined) return undefined;
    const intervalMs = Math.max(1, t - lastT);
    const sum = sumCounters(deltas);
    const perSecond = (n: number) => Math.round((n / intervalMs) * 1000 * 100) / 100;
    const p50Ms = histogramQuantileMs(sum.buckets, 0.5);
    const p99Ms = histogramQuantileMs(sum.buckets, 0.99);
    const sample: ServiceMonitorSample = {
      t,
      intervalMs,
      instances: scraped.filter((s) => s.counters).length,
      unreachable: scraped.filter((s) => !s.counters).length,
      requests: sum.requests,
      requestsPerSecond: perSecond(sum.requests),
      serverErrorsPerSecond: perSecond(sum.serverErrors),
      ...(p50Ms !== undefined ? { p50Ms: Math.round(p50Ms * 10) / 10 } : {}),
      ...(p99Ms !== undefined ? { p99Ms: Math.round(p99Ms * 10) / 10 } : {}),
      errorLogLines,
      errorLogLinesPerSecond: perSecond(errorLogLines),
      ...(restarts !== undefined ? { restarts } : {}),
    };
    this.options.record(sample);
    return sample;
  }

  private loop(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.options.clock.now();
      this.running = this.sampleOnce()
        .then(() => undefined)
        .catch((error: unknown) => debug('service sample failed: %s', String(error)))
        .finally(() => {
          this.running = undefined;
          this.loop(Math.max(0, this.options.intervalMs - (this.options.clock.now() - started)));
        });
    }, delay);
  }
}
