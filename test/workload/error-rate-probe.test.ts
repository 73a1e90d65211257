import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceTarget } from '../../src/targets/service/types.js';
import { ErrorRateProbe } from '../../src/workload/probes/error-rate-probe.js';

// A real HTTP server that serves the service's metric names with counters the test sets.
let counters = { ok: 0, errors: 0 };
// Called once a scrape has been answered: what the counters become for the next one. A timer
// would race the scrape (on a loaded machine the first scrape can come after it).
let afterScrape: (() => void) | undefined;
const nextScrapeSees = (next: typeof counters) => {
  afterScrape = () => {
    afterScrape = undefined;
    counters = next;
  };
};
const server = http.createServer((_req, res) => {
  res.on('finish', () => afterScrape?.());
  res.end(
    [
      '# TYPE truststream_http_requests_total counter',
      `truststream_http_requests_total{route="/api/transfers",method="POST",status="201"} ${counters.ok}`,
      `truststream_http_requests_total{route="/api/transfers",method="POST",status="500"} ${counters.errors}`,
      // The monitor's own scrapes never count.
      'truststream_http_requests_total{route="/metrics",method="GET",status="500"} 999',
      '',
    ].join('\n'),
  );
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = { metricsEndpoints: async () => [{ name: 'one', url }] } as unknown as ServiceTarget;
const probe = () => new ErrorRateProbe('errors', target, 0.1, 5, 50, 2000, true);
const signal = new AbortController().signal;
const outcome = (p: Promise<void>) => p.then(() => 'pass', (e: Error) => e.message);

describe('error-rate probe', () => {
  it('passes while the share of 5xx since the last check is at most max, fails above it, naming the counts', async () => {
    const p = probe();
    counters = { ok: 100, errors: 0 };
    nextScrapeSees({ ok: 120, errors: 1 });
    expect(await outcome(p.check(signal))).toBe('pass');
    counters = { ok: 130, errors: 6 };
    expect(await outcome(p.check(signal))).toBe('5xx rate 33.3% above 10%: 5 of 15 requests since the last check');
    counters = { ok: 150, errors: 6 };
    expect(await outcome(p.check(signal))).toBe('pass');
  });

  it('judges a real interval on its very first check (a probe built for one health check), and passes with too few requests', async () => {
    counters = { ok: 0, errors: 0 };
    // The errors arrive during the first check's own interval (after its first scrape).
    nextScrapeSees({ ok: 5, errors: 5 });
    expect(await outcome(probe().check(signal))).toMatch(/^5xx rate 50% above 10%: 5 of 10 requests/);
    const quiet = probe();
    counters = { ok: 0, errors: 0 };
    nextScrapeSees({ ok: 1, errors: 2 });
    expect(await outcome(quiet.check(signal))).toBe('pass');
  });

  it('a restarted instance (counters lower than before) counts from zero, as a counter reset', async () => {
    const p = probe();
    counters = { ok: 1000, errors: 0 };
    await p.check(signal);
    counters = { ok: 10, errors: 10 };
    expect(await outcome(p.check(signal))).toBe('5xx rate 50% above 10%: 10 of 20 requests since the last check');
  });

  it('fails when it saw nothing: no instance, or no instance whose /metrics answered (unknown is not healthy)', async () => {
    const none = new ErrorRateProbe('errors', { metricsEndpoints: async () => [] } as unknown as ServiceTarget, 0.1, 5, 50, 2000, true);
    expect(await outcome(none.check(signal))).toBe('no instance to scrape: the service has no ready instance');
    // A port nothing listens on: the scrape is refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const dead = new ErrorRateProbe('errors', { metricsEndpoints: async () => [{ name: 'gone', url: deadUrl }] } as unknown as ServiceTarget, 0.1, 5, 50, 2000, true);
    expect(await outcome(dead.check(signal))).toBe("no instance's /metrics answered (1 tried): the error rate is unknown");
    // One of two answering is enough to judge (by what that one answered).
    const half = new ErrorRateProbe('errors', { metricsEndpoints: async () => [{ name: 'gone', url: deadUrl }, { name: 'one', url }] } as unknown as ServiceTarget, 0.1, 5, 50, 2000, true);
    counters = { ok: 0, errors: 0 };
    expect(await outcome(half.check(signal))).toBe('pass');
  });
});
