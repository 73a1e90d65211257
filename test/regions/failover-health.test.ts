import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { queryNow } from '../../src/targets/regions/caching-resolver.js';
import { DnsServer } from '../../src/targets/regions/dns-server.js';
import { chooseAnswer, FailoverZone, type TimedTransition } from '../../src/targets/regions/failover-answers.js';
import { HealthChecker } from '../../src/targets/regions/health-checker.js';
import { MotoServer } from '../../src/targets/regions/moto-server.js';
import { Route53Failover } from '../../src/targets/regions/route53-failover.js';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';

// Failover routing for real: health checks and failover record sets through the Route 53 API
// (a real moto server), the drill's own health checkers probing real HTTP endpoints on loopback,
// and the drill's DNS server answering real UDP queries.

/** An endpoint whose answers the test decides: 200, or 503 for the next `failNext` requests (or for good). */
class Endpoint {
  readonly served: Array<{ at: number; status: number }> = [];
  failing = false;
  failNext = 0;
  private server!: http.Server;
  port = 0;

  constructor(readonly host: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const status = this.failing || this.failNext > 0 ? 503 : 200;
      if (this.failNext > 0) this.failNext -= 1;
      this.served.push({ at: performance.now(), status });
      res.writeHead(status).end(status === 200 ? 'ok' : 'down');
    });
    await new Promise<void>((resolve) => this.server.listen(0, this.host, resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  failuresSince(at: number): number {
    return this.served.filter((s) => s.at >= at && s.status !== 200).length;
  }

  successesSince(at: number): number {
    return this.served.filter((s) => s.at >= at && s.status === 200).length;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const NAME = 'api.failover.drill.test.';
// Addresses of their own: other drills on the machine use 127.0.1.0/24 and 127.0.2.0/24.
const primary = new Endpoint('127.0.71.1');
const secondary = new Endpoint('127.0.72.1');
const PRIMARY_VALUES = ['127.0.71.1', '127.0.71.2'];
const SECONDARY_VALUES = ['127.0.72.1', '127.0.72.2'];

let work: string;
let ledgerFile: string;
let moto: MotoServer | undefined;
let client: ReturnType<typeof Route53Zone.client>;
let zone: Route53Zone;
let api: Route53Failover;
let answers: FailoverZone;
let dns: DnsServer;
const transitions: TimedTransition[] = [];

async function answer(): Promise<string[]> {
  return (await queryNow(dns.address, NAME)).addresses;
}

/** Polls the DNS server until it answers `values`; returns when (performance.now()). */
async function until(values: string[], timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const got = await answer();
    if (got.join(',') === values.join(',')) return performance.now();
    if (performance.now() > deadline) throw new Error(`still ${got.join(',')} after ${timeoutMs} ms, wanted ${values.join(',')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-failover-test-'));
  ledgerFile = path.join(work, 'resources.jsonl');
  await primary.start();
  await secondary.start();
  moto = await MotoServer.start({ ledger: new ResourceLedger(ledgerFile), runId: 'test-failover', register: (m) => (moto = m) });
  client = Route53Zone.client(moto.endpoint);
  zone = await Route53Zone.create(client, 'failover.drill.test', 'test-failover');
  api = new Route53Failover(client, zone.id);
  const check = (e: Endpoint) => api.createHealthCheck({ ipAddress: e.host, port: e.port, resourcePath: '/health', requestInterval: 1, failureThreshold: 3 }, `test-${e.host}-${Date.now()}`);
  const primaryCheck = await check(primary);
  const secondaryCheck = await check(secondary);
  await api.createFailoverA({ name: NAME, values: PRIMARY_VALUES, ttl: 1, failover: 'PRIMARY', setIdentifier: 'p', healthCheckId: primaryCheck });
  await api.createFailoverA({ name: NAME, values: SECONDARY_VALUES, ttl: 1, failover: 'SECONDARY', setIdentifier: 's', healthCheckId: secondaryCheck });
  answers = new FailoverZone(zone, api, (t) => transitions.push(t));
  dns = await DnsServer.start(answers);
}, 90_000);

afterAll(async () => {
  await answers?.stop();
  await dns?.stop();
  // What teardown does: the record sets, then the health checks they name, then the zone.
  if (api) {
    await api.deleteFailoverSets(NAME);
    expect(await api.aRecordSets(NAME)).toEqual([]);
  }
  client?.destroy();
  await moto?.stop();
  await primary.stop();
  await secondary.stop();
  const processes = readResources(ledgerFile).filter((r) => r.kind === 'process');
  expect(processes.filter((r) => recordedProcessAlive(r.pid, r.match, r.startTime))).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

describe("failover routing answered from the drill's own health checks (real moto, real HTTP, real UDP)", () => {
  it('lists both failover record sets as the API holds them, and answers PRIMARY while it is healthy', async () => {
    const sets = await api.aRecordSets(NAME);
    expect(sets.map((s) => [s.failover, s.values, s.ttl])).toEqual([
      ['PRIMARY', PRIMARY_VALUES, 1],
      ['SECONDARY', SECONDARY_VALUES, 1],
    ]);
    expect(sets.every((s) => typeof s.healthCheckId === 'string')).toBe(true);
    expect(await answer()).toEqual(PRIMARY_VALUES);
    // The checkers run from the first answer on: both endpoints are being probed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(primary.served.length).toBeGreaterThan(0);
    expect(secondary.served.length).toBeGreaterThan(0);
    expect(transitions).toEqual([]);
  });

  it('does not flip on fewer consecutive failures than the threshold', async () => {
    const from = performance.now();
    primary.failNext = 2;
    // Long enough for the two failures and several successes after them.
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      expect(await answer()).toEqual(PRIMARY_VALUES);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(primary.failuresSince(from)).toBe(2);
    expect(transitions).toEqual([]);
  });

  it('answers SECONDARY once PRIMARY failed FailureThreshold checks in a row, not before', async () => {
    const from = performance.now();
    primary.failing = true;
    const flipped = await until(SECONDARY_VALUES, 15_000);
    // Three failed checks were served before the answer changed, at least two intervals apart from the first.
    const failures = primary.served.filter((s) => s.at >= from && s.status !== 200);
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures[2]!.at).toBeLessThanOrEqual(flipped);
    expect(flipped - failures[0]!.at).toBeGreaterThanOrEqual(1_900);
    const down = transitions.at(-1)!;
    expect(down).toMatchObject({ healthy: false, consecutive: 3, last: 'HTTP 503', endpoint: `http://${primary.host}:${primary.port}/health` });
    expect(Date.parse(down.at)).not.toBeNaN();
  });

  it('answers PRIMARY again only after FailureThreshold successes in a row', async () => {
    const from = performance.now();
    primary.failing = false;
    const back = await until(PRIMARY_VALUES, 15_000);
    const successes = primary.served.filter((s) => s.at >= from && s.status === 200);
    expect(successes.length).toBeGreaterThanOrEqual(3);
    expect(successes[2]!.at).toBeLessThanOrEqual(back);
    expect(back - successes[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(transitions.at(-1)).toMatchObject({ healthy: true, consecutive: 3, last: 'HTTP 200' });
    expect(transitions.map((t) => t.healthy)).toEqual([false, true]);
  });

  it('answers PRIMARY when both are unhealthy (Route 53 failover semantics)', async () => {
    primary.failing = true;
    secondary.failing = true;
    // Wait for both to be unhealthy: two more transitions.
    const deadline = performance.now() + 15_000;
    while (transitions.filter((t) => !t.healthy).length < 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(transitions.slice(-2).map((t) => [t.endpoint.includes(primary.host) ? 'primary' : 'secondary', t.healthy]).sort()).toEqual([
      ['primary', false],
      ['secondary', false],
    ]);
    expect(await answer()).toEqual(PRIMARY_VALUES);
    primary.failing = false;
    secondary.failing = false;
  });

  it('refuses to answer from a health check of a non-loopback endpoint, and never probes it (networking rule)', async () => {
    const name = 'outside.failover.drill.test.';
    const outside = await api.createHealthCheck({ ipAddress: '192.0.2.10', port: 80, resourcePath: '/health', requestInterval: 1, failureThreshold: 1 }, `test-outside-${Date.now()}`);
    await api.createFailoverA({ name, values: ['127.0.71.9'], ttl: 1, failover: 'PRIMARY', setIdentifier: 'p', healthCheckId: outside });
    await expect(answers.readA(name)).rejects.toMatchObject({ code: 'HEALTH_CHECK_NOT_LOOPBACK' });
    // No answer goes out for it (the server drops the query; the client times out).
    await expect(queryNow(dns.address, name)).rejects.toThrow();
    await api.deleteFailoverSets(name);
    await api.deleteHealthCheck(outside);
  });
});

describe('health checker rules', () => {
  it('refuses a non-loopback endpoint before sending anything (networking rule)', () => {
    for (const ipAddress of ['10.0.0.1', '127.example.com', '127.0.0.1.nip.io', '::1', '127.1']) {
      expect(() => new HealthChecker({ id: 'x', ipAddress, port: 80, resourcePath: '/', requestInterval: 1, failureThreshold: 1 }, () => {}), ipAddress).toThrow(/not loopback/);
    }
    // The control: a loopback literal is taken.
    expect(() => new HealthChecker({ id: 'x', ipAddress: '127.0.73.9', port: 80, resourcePath: '/', requestInterval: 1, failureThreshold: 1 }, () => {})).not.toThrow();
  });

  it('counts a frozen endpoint (accepts, never answers) as failing', async () => {
    const net = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.73.1', r));
    const port = (silent.address() as AddressInfo).port;
    const seen: string[] = [];
    const checker = new HealthChecker({ id: 'frozen', ipAddress: '127.0.73.1', port, resourcePath: '/health', requestInterval: 1, failureThreshold: 1 }, (t) => seen.push(`${t.healthy} ${t.last}`));
    checker.start();
    const deadline = performance.now() + 9_000;
    while (seen.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    checker.stop();
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    expect(seen).toEqual(['false no answer within 4000 ms']);
  });

  it('chooses among record sets as Route 53 failover routing does', () => {
    const p = { name: 'n.', values: ['127.0.0.1'], ttl: 1, failover: 'PRIMARY' as const, setIdentifier: 'p', healthCheckId: 'hp' };
    const s = { name: 'n.', values: ['127.0.0.2'], ttl: 1, failover: 'SECONDARY' as const, setIdentifier: 's', healthCheckId: 'hs' };
    const health = (up: Record<string, boolean>) => (id: string) => up[id] ?? true;
    expect(chooseAnswer([p, s], health({ hp: true, hs: true }))).toBe(p);
    expect(chooseAnswer([p, s], health({ hp: false, hs: true }))).toBe(s);
    expect(chooseAnswer([p, s], health({ hp: false, hs: false }))).toBe(p);
    // A SECONDARY without a health check is always a candidate.
    expect(chooseAnswer([p, { ...s, healthCheckId: undefined }], health({ hp: false }))).toMatchObject({ failover: 'SECONDARY' });
    expect(chooseAnswer([], health({}))).toBeUndefined();
  });
});
