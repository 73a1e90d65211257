import { describe, expect, it } from 'vitest';
import { counterDelta, histogramQuantileMs, httpCounters, sumCounters } from '../../src/workload/metrics/http-metrics.js';
import { parsePrometheusText } from '../../src/workload/metrics/prometheus-text.js';

/** A /metrics answer in the shape prom-client writes for the service (sut/truststream/src/metrics.ts). */
function scrape(o: { health200: number; transfers500: number; metrics200: number; buckets: Record<string, number>; metricsBuckets?: Record<string, number> }): string {
  const bucketLines = (route: string, buckets: Record<string, number>) =>
    Object.entries(buckets).map(([le, n]) => `truststream_http_request_duration_seconds_bucket{le="${le}",method="GET",route="${route}"} ${n}`);
  return [
    '# HELP truststream_http_requests_total HTTP requests by route and status',
    '# TYPE truststream_http_requests_total counter',
    `truststream_http_requests_total{method="GET",route="/health",status="200"} ${o.health200}`,
    `truststream_http_requests_total{method="GET",route="/api/transfers/:id",status="500"} ${o.transfers500}`,
    `truststream_http_requests_total{method="GET",route="/metrics",status="200"} ${o.metrics200}`,
    '# TYPE truststream_http_request_duration_seconds histogram',
    ...bucketLines('/health', o.buckets),
    ...bucketLines('/metrics', o.metricsBuckets ?? { '0.005': o.metrics200, '+Inf': o.metrics200 }),
    'truststream_http_request_duration_seconds_sum{method="GET",route="/health"} 1.5',
    'truststream_process_start_time_seconds 1764644000',
    'weird line that is not a sample',
    '',
  ].join('\n');
}

describe('Prometheus text', () => {
  it('reads names, labels (escapes included) and values; skips comments and unreadable lines', () => {
    const samples = parsePrometheusText('# HELP x y\nx_total{a="1",b="q\\"uote"} 3\ny 1.5e3\nz{le="+Inf"} +Inf\nnot a sample\n');
    expect(samples).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'q"uote' }, value: 3 },
      { name: 'y', labels: {}, value: 1500 },
      { name: 'z', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });
});

describe('HTTP counters from /metrics', () => {
  it('sums requests and 5xx over routes, leaving out /metrics itself', () => {
    const c = httpCounters(scrape({ health200: 10, transfers500: 4, metrics200: 99, buckets: { '0.005': 6, '0.01': 9, '+Inf': 14 } }));
    expect(c.requests).toBe(14);
    expect(c.serverErrors).toBe(4);
    expect([...c.buckets]).toEqual([
      [0.005, 6],
      [0.01, 9],
      [Infinity, 14],
    ]);
  });

  it('a delta is the increase between two scrapes; a counter that went down means a restart, so the new value is the increase', () => {
    const before = httpCounters(scrape({ health200: 10, transfers500: 4, metrics200: 5, buckets: { '0.005': 6, '0.01': 9, '+Inf': 14 } }));
    const after = httpCounters(scrape({ health200: 30, transfers500: 4, metrics200: 9, buckets: { '0.005': 20, '0.01': 29, '+Inf': 34 } }));
    expect(counterDelta(before, after)).toEqual({ requests: 20, serverErrors: 0, buckets: new Map([[0.005, 14], [0.01, 20], [Infinity, 20]]) });
    const restarted = httpCounters(scrape({ health200: 3, transfers500: 1, metrics200: 1, buckets: { '0.005': 4, '0.01': 4, '+Inf': 4 } }));
    expect(counterDelta(after, restarted)).toEqual({ requests: 4, serverErrors: 1, buckets: new Map([[0.005, 4], [0.01, 4], [Infinity, 4]]) });
    expect(sumCounters([counterDelta(before, after), restarted])).toEqual({ requests: 24, serverErrors: 1, buckets: new Map([[0.005, 18], [0.01, 24], [Infinity, 24]]) });
  });
});

describe('histogram quantile (as PromQL histogram_quantile)', () => {
  const buckets = new Map([
    [0.01, 50],
    [0.1, 90],
    [1, 100],
    [Infinity, 100],
  ]);

  it('interpolates linearly inside the bucket the rank falls in, from 0 for the first', () => {
    expect(histogramQuantileMs(buckets, 0.5)).toBeCloseTo(10); // rank 50: top of the first bucket
    expect(histogramQuantileMs(buckets, 0.25)).toBeCloseTo(5); // half-way through 0..10 ms
    expect(histogramQuantileMs(buckets, 0.7)).toBeCloseTo(55); // 10 + (100-10) * (70-50)/(90-50)
    expect(histogramQuantileMs(buckets, 0.99)).toBeCloseTo(910); // 100 + (1000-100) * (99-90)/(100-90)
  });

  it('in the +Inf bucket, the largest finite bound is all that is known', () => {
    expect(histogramQuantileMs(new Map([[0.1, 10], [Infinity, 20]]), 0.99)).toBeCloseTo(100);
  });

  it('skips empty buckets and knows nothing of an empty or incomplete histogram', () => {
    expect(histogramQuantileMs(new Map([[0.01, 0], [0.1, 0], [1, 10], [Infinity, 10]]), 0.5)).toBeCloseTo(550);
    expect(histogramQuantileMs(new Map([[0.1, 0], [Infinity, 0]]), 0.5)).toBeUndefined();
    expect(histogramQuantileMs(new Map([[0.1, 5]]), 0.5)).toBeUndefined();
    expect(histogramQuantileMs(new Map(), 0.5)).toBeUndefined();
  });
});
