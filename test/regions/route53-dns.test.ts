import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { CachingResolver, queryNow } from '../../src/targets/regions/caching-resolver.js';
import { DnsServer } from '../../src/targets/regions/dns-server.js';
import { MotoServer } from '../../src/targets/regions/moto-server.js';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';

let work: string;
let ledgerFile: string;
let moto: MotoServer | undefined;
let zone: Route53Zone;
let dns: DnsServer;
let client: ReturnType<typeof Route53Zone.client>;

const NAME = 'api.truststream.drill.test.';

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-route53-test-'));
  ledgerFile = path.join(work, 'resources.jsonl');
  moto = await MotoServer.start({ ledger: new ResourceLedger(ledgerFile), runId: 'test-route53', register: (m) => (moto = m) });
  client = Route53Zone.client(moto.endpoint);
  zone = await Route53Zone.create(client, 'truststream.drill.test', 'test-route53');
  dns = await DnsServer.start(zone);
}, 90_000);

afterAll(async () => {
  await dns?.stop();
  client?.destroy();
  await moto?.stop();
  // Nothing of the test left running.
  const processes = readResources(ledgerFile).filter((r) => r.kind === 'process');
  expect(processes.filter((r) => recordedProcessAlive(r.pid, r.match, r.startTime))).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

describe('Route 53 (real moto server) answered by the drill\'s DNS server (real UDP queries)', () => {
  it('serves an UPSERTed record with its TTL, and the next answer after another UPSERT', async () => {
    const first = await zone.upsertA({ name: NAME, values: ['127.0.1.1', '127.0.1.2'], ttl: 30 }, 'test');
    await zone.waitInsync(first, 10_000);
    const answer = await queryNow(dns.address, NAME);
    expect(answer.addresses).toEqual(['127.0.1.1', '127.0.1.2']);
    expect(answer.ttl).toBe(30);

    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 7 }, 'test'), 10_000);
    const flipped = await queryNow(dns.address, NAME);
    expect(flipped.addresses).toEqual(['127.0.2.1']);
    expect(flipped.ttl).toBe(7);
    // Read back through the API too: the record is what moto holds.
    expect(await zone.readA(NAME)).toEqual({ name: NAME, values: ['127.0.2.1'], ttl: 7 });
  });

  it('answers NXDOMAIN for a name the zone lacks and refuses names outside it', async () => {
    await expect(queryNow(dns.address, 'nothing.truststream.drill.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(queryNow(dns.address, 'example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('a client resolver keeps its answer for the TTL, and asks again after it', async () => {
    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.1.1'], ttl: 1 }, 'test'), 10_000);
    let now = 0;
    const resolver = new CachingResolver(dns.address, () => now);
    expect((await resolver.resolve(NAME)).addresses).toEqual(['127.0.1.1']);
    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 1 }, 'test'), 10_000);
    // Within the TTL: the cached (now stale) answer; the negative control of the flip below.
    now = 999;
    expect((await resolver.resolve(NAME)).addresses).toEqual(['127.0.1.1']);
    now = 1000;
    expect((await resolver.resolve(NAME)).addresses).toEqual(['127.0.2.1']);
    resolver.cancel();
  });
});

describe('the embedded Route 53 API after a killed drill', () => {
  it('a moto server left running is reaped from the ledger (process and directory)', async () => {
    const file = path.join(work, 'killed-resources.jsonl');
    const left = await MotoServer.start({ ledger: new ResourceLedger(file), runId: 'test-route53-killed' });
    const recorded = readResources(file);
    const entry = recorded.find((r) => r.kind === 'process')!;
    expect(entry).toMatchObject({ name: 'moto-server', pid: left.pid });
    expect(recordedProcessAlive(entry.pid, entry.match, entry.startTime)).toBe(true);
    const removed = await reapResources(file);
    expect(removed.some((r) => r.startsWith('process moto-server'))).toBe(true);
    expect(recordedProcessAlive(entry.pid, entry.match, entry.startTime)).toBe(false);
    const dir = recorded.find((r) => r.kind === 'temp-dir')!;
    expect(removed.some((r) => r.includes(dir.path))).toBe(true);
    await left.stop();
  }, 60_000);
});
