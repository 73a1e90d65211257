import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../../sut/truststream/test/support/test-database.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { ServiceProcesses } from '../../src/targets/service/service-processes.js';
import { parseAbOutput, runAb } from '../../src/workload/load/ab-driver.js';
import { runAutocannon } from '../../src/workload/load/autocannon-driver.js';
import { binaryOnPath } from '../../src/workload/load/binary-on-path.js';
import { runK6 } from '../../src/workload/load/k6-driver.js';

let db: TestDatabase;
let work: string;
let good: ServiceProcesses;
let slow: ServiceProcesses;
let token: string;

beforeAll(async () => {
  db = await startTestDatabase('test-load-drivers');
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-load-test-'));
  token = await db.token('load-test');
  const ledger = new ResourceLedger(path.join(work, 'resources.jsonl'));
  const start = (version: string, replicas: number) =>
    ServiceProcesses.start({ runId: 'test-load', mode: 'api', replicas, environment: { databaseUrl: db.url, version }, ledger, readyTimeoutMs: 30_000 });
  [good, slow] = await Promise.all([start('4.4.0', 2), start('4.4.4', 1)]);
});
afterAll(async () => {
  await good?.stop();
  await slow?.stop();
  await db?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const urls = (launch: ServiceProcesses, p: string) => launch.instances.map((i) => `${i.url}${p}`);

describe('load drivers against the real service (loopback)', () => {
  it('autocannon: bounded by the request count, spread over every endpoint, with the token for /api/ paths', async () => {
    const result = await runAutocannon({ urls: urls(good, '/api/accounts/1'), requests: 60, connections: 4, durationMs: 30_000, requestTimeoutMs: 5000, token });
    expect(result).toMatchObject({ responses: 60, errors: 0, non2xx: 0, stoppedBy: 'requests' });
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
    expect(result.requestsPerSecond).toBeGreaterThan(0);
    // Both processes served: each counted its share in its own metrics.
    for (const instance of good.instances) {
      const metrics = await (await fetch(`${instance.url}/metrics`)).text();
      expect(metrics).toMatch(/truststream_http_requests_total\{method="GET",route="\/api\/accounts\/:id",status="200"\} [1-9]\d*/);
    }
  });

  it('autocannon: without the token every answer is a non-2xx, and counted as such (the negative control of the header)', async () => {
    const result = await runAutocannon({ urls: urls(good, '/api/accounts/1'), requests: 20, connections: 2, durationMs: 30_000, requestTimeoutMs: 5000 });
    expect(result).toMatchObject({ responses: 20, non2xx: 20 });
  });

  it('autocannon: bounded by the duration when the service is too slow to reach the count', async () => {
    const result = await runAutocannon({ urls: urls(slow, '/health'), requests: 1000, connections: 4, durationMs: 2000, requestTimeoutMs: 5000 });
    expect(result.stoppedBy).toBe('duration');
    expect(result.responses).toBeLessThan(1000);
    // Release 4.4.4 adds 700 ms to every request: no answer can be faster.
    expect(result.latencyMs.p50).toBeGreaterThanOrEqual(700);
  });

  it.skipIf(!binaryOnPath('ab'))('ab (when on PATH): the same bounds, its report read back', async () => {
    // A program the drill starts is in the ledger, so the reaper stops it after a kill -9 of the drill.
    const file = path.join(work, 'ab-resources.jsonl');
    const counted = await runAb({ urls: urls(good, '/health'), requests: 50, connections: 5, durationMs: 30_000, requestTimeoutMs: 5000, ledger: new ResourceLedger(file) });
    expect(counted).toMatchObject({ responses: 50, errors: 0, non2xx: 0, stoppedBy: 'requests' });
    const recorded = readResources(file);
    expect(recorded).toEqual([expect.objectContaining({ kind: 'process', name: 'ab', match: urls(good, '/health')[0] })]);
    expect(recordedProcessAlive((recorded[0] as { pid: number }).pid, urls(good, '/health')[0]!)).toBe(false);
    expect(counted.latencyMs.p99).toBeGreaterThanOrEqual(counted.latencyMs.p50);
    const timed = await runAb({ urls: urls(slow, '/health'), requests: 1000, connections: 4, durationMs: 2000, requestTimeoutMs: 5000 });
    expect(timed.stoppedBy).toBe('duration');
    expect(timed.latencyMs.p50).toBeGreaterThanOrEqual(700);
    const refused = await runAb({ urls: urls(good, '/nope'), requests: 10, connections: 2, durationMs: 30_000, requestTimeoutMs: 5000 });
    expect(refused.non2xx).toBe(10);
  });

  it('ab refuses to put a token on its command line', async () => {
    await expect(runAb({ urls: urls(good, '/api/accounts/1'), requests: 1, connections: 1, durationMs: 1000, requestTimeoutMs: 1000, token })).rejects.toMatchObject({
      code: binaryOnPath('ab') ? 'LOAD_DRIVER_UNSAFE' : 'LOAD_DRIVER_MISSING',
    });
  });

  it.skipIf(!binaryOnPath('k6'))('k6 (when on PATH): shared iterations over the endpoints, its summary read back', async () => {
    const result = await runK6({ urls: urls(good, '/api/accounts/1'), requests: 40, connections: 4, durationMs: 30_000, requestTimeoutMs: 5000, token });
    expect(result).toMatchObject({ responses: 40, non2xx: 0, stoppedBy: 'requests' });
  });

  it('a driver that is not on PATH is an environment failure that says what to install', async () => {
    const path = process.env.PATH;
    process.env.PATH = work;
    try {
      await expect(runAb({ urls: urls(good, '/health'), requests: 1, connections: 1, durationMs: 1000, requestTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'LOAD_DRIVER_MISSING', kind: 'environment', message: expect.stringMatching(/apache2-utils/) });
      await expect(runK6({ urls: urls(good, '/health'), requests: 1, connections: 1, durationMs: 1000, requestTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'LOAD_DRIVER_MISSING' });
    } finally {
      process.env.PATH = path;
    }
  });

  it("ab's report: counts, failures, non-2xx and the percentile table", () => {
    const report = [
      'Complete requests:      180',
      'Failed requests:        2',
      'Non-2xx responses:      7',
      'Time taken for tests:   2.004 seconds',
      'Requests per second:    89.82 [#/sec] (mean)',
      'Time per request:       44.530 [ms] (mean)',
      'Percentage of the requests served within a certain time (ms)',
      '  50%     41',
      '  90%     60',
      '  99%    101',
      ' 100%    130 (longest request)',
    ].join('\n');
    expect(parseAbOutput(report, 1000)).toEqual({
      responses: 180,
      durationMs: 2004,
      requestsPerSecond: 89.82,
      latencyMs: { p50: 41, p90: 60, p99: 101, max: 130, mean: 44.53 },
      errors: 2,
      timeouts: 0,
      non2xx: 7,
      stoppedBy: 'duration',
    });
  });
});
