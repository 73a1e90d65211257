import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { FailoverZone } from '../../src/targets/regions/failover-answers.js';
import type { HealthCheckConfig, Route53Failover } from '../../src/targets/regions/route53-failover.js';

// The teardown race: a DNS query that asks for a health checker while the zone stops. The Route 53
// API is the edge here (a GetHealthCheck answered on cue); the checker's probes are real HTTP.
let hits = 0;
const server = http.createServer((_req, res) => {
  hits += 1;
  res.end('ok');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function zoneWithSlowApi() {
  let answer: (config: HealthCheckConfig) => void = () => {};
  let calls = 0;
  const api = {
    healthCheck: (id: string) => {
      calls += 1;
      return new Promise<HealthCheckConfig>((resolve) => {
        answer = () => resolve({ id, ipAddress: '127.0.0.1', port, resourcePath: '/health', requestInterval: 1, failureThreshold: 1 });
      });
    },
    aRecordSets: async () => [],
  } as unknown as Route53Failover;
  const zone = new FailoverZone({ name: 'drill.test.', contains: () => true }, api);
  return { zone, answer: () => answer({} as HealthCheckConfig), calls: () => calls };
}

describe('FailoverZone.stop() and health checkers', () => {
  it('a checker whose configuration arrives after stop() began is never started; none is created after stop()', async () => {
    const { zone, answer, calls } = zoneWithSlowApi();
    const pending = zone.checker('hc-1');
    const stopping = zone.stop();
    answer();
    await stopping;
    const checker = await pending;
    await new Promise((r) => setTimeout(r, 300));
    expect(checker.checks).toBe(0);
    expect(hits).toBe(0);
    await expect(zone.checker('hc-2')).rejects.toThrow(/is stopped: no health checker for hc-2/);
    expect(calls()).toBe(1);
  });

  it('negative control: a checker started before stop() probes, and stop() ends it', async () => {
    const { zone, answer } = zoneWithSlowApi();
    const pending = zone.checker('hc-3');
    answer();
    const checker = await pending;
    await new Promise((r) => setTimeout(r, 300));
    expect(checker.checks).toBeGreaterThan(0);
    await zone.stop();
    const after = hits;
    await new Promise((r) => setTimeout(r, 1300));
    expect(hits).toBe(after);
  });
});
