import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { queryNow } from '../../src/targets/regions/caching-resolver.js';
import { DnsServer } from '../../src/targets/regions/dns-server.js';
import { FailoverZone } from '../../src/targets/regions/failover-answers.js';
import { MotoServer } from '../../src/targets/regions/moto-server.js';
import { reapRoute53Record } from '../../src/targets/regions/reap-route53-record.js';
import { Route53Failover } from '../../src/targets/regions/route53-failover.js';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';

// An existing hosted zone (what the user's AWS account would hold), played by a real moto server
// the test starts: the drill opens it by id through the "external" client (AWS credential chain,
// endpoint override) and may touch only its own, marked names.
const ZONE = 'example-corp.test.';
const FOREIGN = `www.${ZONE}`;
let work: string;
let moto: MotoServer | undefined;
let owner: Route53Client;
let zoneId: string;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

async function listAll(): Promise<Array<{ name: string; type: string; values: string[] }>> {
  const out = await owner.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (out.ResourceRecordSets ?? []).map((r) => ({ name: r.Name ?? '', type: r.Type ?? '', values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '') }));
}

async function ownerChange(name: string, type: 'A' | 'TXT', values: string[]): Promise<void> {
  await owner.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: type, TTL: 60, ResourceRecords: values.map((Value) => ({ Value })) } }] } }));
}

const foreignOnly = (sets: Array<{ name: string; type: string }>) => sets.filter((s) => s.type !== 'SOA' && s.type !== 'NS');

beforeAll(async () => {
  // The AWS chain's credentials (moto takes any): set as a user's environment would.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXISTINGZONETEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'existing-zone-test-secret';
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-existing-zone-test-'));
  moto = await MotoServer.start({ ledger: new ResourceLedger(path.join(work, 'resources.jsonl')), runId: 'test-existing-zone', register: (m) => (moto = m) });
  owner = Route53Zone.client(moto.endpoint);
  const created = await owner.send(new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `owner-${Date.now()}` }));
  zoneId = created.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
  await ownerChange(FOREIGN, 'A', ['192.0.2.10']);
}, 90_000);

afterAll(async () => {
  owner?.destroy();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
});

describe('an existing hosted zone (moto standing in for AWS): only drill-owned, marked names', () => {
  it('refuses a zone id whose zone has another name (exit 2), changing nothing', async () => {
    const client = Route53Zone.externalClient(moto!.endpoint, 'us-east-1');
    const error = await Route53Zone.openExisting(client, zoneId, 'other.test', { ownerRun: 'r1' }).catch((e: unknown) => e);
    client.destroy();
    expect(error).toMatchObject({ code: 'ROUTE53_ZONE_MISMATCH' });
    expect(exitCodeForError(error)).toBe(2);
  });

  it('claims a free name with its marker, serves its record, deletes only its own at the end; the foreign record is untouched', async () => {
    const before = foreignOnly(await listAll());
    const client = Route53Zone.externalClient(moto!.endpoint, 'us-east-1');
    const zone = await Route53Zone.openExisting(client, zoneId, ZONE, { ownerRun: 'run-a' });
    const name = `drill-api.${ZONE}`;
    await zone.claim(name);
    await zone.upsertA({ name, values: ['127.0.1.1'], ttl: 5 }, 'test');
    const during = await listAll();
    expect(during).toContainEqual({ name, type: 'TXT', values: ['"drill-owner=run-a"'] });
    expect(during).toContainEqual({ name, type: 'A', values: ['127.0.1.1'] });
    expect(await zone.deleteOwned(name, 'run-a')).toBe(true);
    client.destroy();
    expect(foreignOnly(await listAll())).toEqual(before);
    expect(before).toEqual([{ name: FOREIGN, type: 'A', values: ['192.0.2.10'] }]);
  });

  it('negative control: a name with records and no marker is refused (exit 2, named), and neither written nor deleted', async () => {
    const client = Route53Zone.externalClient(moto!.endpoint, 'us-east-1');
    const zone = await Route53Zone.openExisting(client, zoneId, ZONE, { ownerRun: 'run-b' });
    const error = await zone.claim(FOREIGN).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ROUTE53_RECORD_NOT_DRILLS' });
    expect(String((error as Error).message)).toContain(FOREIGN);
    expect(exitCodeForError(error)).toBe(2);
    await expect(zone.upsertA({ name: FOREIGN, values: ['127.0.1.1'], ttl: 5 }, 'test')).rejects.toMatchObject({ code: 'ROUTE53_RECORD_NOT_DRILLS' });
    // Teardown's delete of a name that is not the run's deletes nothing.
    expect(await zone.deleteOwned(FOREIGN, 'run-b')).toBe(false);
    client.destroy();
    expect(foreignOnly(await listAll())).toEqual([{ name: FOREIGN, type: 'A', values: ['192.0.2.10'] }]);
  });

  it("refuses a name another run marked (a killed run's or a concurrent drill's)", async () => {
    const name = `other-run.${ZONE}`;
    await ownerChange(name, 'TXT', ['"drill-owner=run-old"']);
    const client = Route53Zone.externalClient(moto!.endpoint, 'us-east-1');
    const zone = await Route53Zone.openExisting(client, zoneId, ZONE, { ownerRun: 'run-c' });
    await expect(zone.claim(name)).rejects.toMatchObject({ code: 'ROUTE53_RECORD_OTHER_RUN' });
    client.destroy();
    // Its own run's reaper removes it.
    expect(await reapRoute53Record({ kind: 'route53-record', endpoint: moto!.endpoint, region: 'us-east-1', zoneId, zoneName: ZONE, name, runId: 'run-old' })).toMatchObject({ state: 'removed' });
    expect((await listAll()).filter((s) => s.name === name)).toEqual([]);
  });

  it("the reaper deletes a killed run's record and marker, and nothing of a name it does not own", async () => {
    const name = `killed.${ZONE}`;
    const client = Route53Zone.externalClient(moto!.endpoint, 'us-east-1');
    const zone = await Route53Zone.openExisting(client, zoneId, ZONE, { ownerRun: 'run-killed' });
    await zone.claim(name);
    await zone.upsertA({ name, values: ['127.0.2.1'], ttl: 5 }, 'test');
    client.destroy();
    const entry = { kind: 'route53-record' as const, endpoint: moto!.endpoint, region: 'us-east-1', zoneId, zoneName: ZONE, name, runId: 'run-killed' };
    // Negative control: the same entry under another run id finds nothing of its own.
    expect(await reapRoute53Record({ ...entry, runId: 'run-someone-else' })).toEqual({ state: 'absent' });
    expect((await listAll()).filter((s) => s.name === name)).toHaveLength(2);
    expect(await reapRoute53Record({ ...entry, name: FOREIGN })).toEqual({ state: 'absent' });
    expect(await reapRoute53Record(entry)).toMatchObject({ state: 'removed' });
    expect((await listAll()).filter((s) => s.name === name)).toEqual([]);
    expect(await reapRoute53Record(entry)).toEqual({ state: 'absent' });
    expect(foreignOnly(await listAll())).toEqual([{ name: FOREIGN, type: 'A', values: ['192.0.2.10'] }]);
  });
});

describe("the DNS server's record-set cache (Route 53 allows ~5 requests/s per account)", () => {
  it('answers 200 concurrent queries with a bounded number of ListResourceRecordSets calls, and the drill\'s own UPSERT on the next query', async () => {
    const client = Route53Zone.externalClient(moto!.endpoint, 'us-east-1');
    // Counted at the client: every ListResourceRecordSets sent to the API.
    let lists = 0;
    client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'ListResourceRecordSetsCommand') lists += 1;
      return next(args);
    }, { step: 'initialize', name: 'countLists' });
    const zone = await Route53Zone.openExisting(client, zoneId, ZONE, { ownerRun: 'run-cache' });
    const name = `cached.${ZONE}`;
    await zone.claim(name);
    await zone.upsertA({ name, values: ['127.0.1.1'], ttl: 5 }, 'test');
    const answers = new FailoverZone(zone, new Route53Failover(client, zone.id));
    zone.onChange(() => answers.invalidate());
    const dns = await DnsServer.start(answers);
    try {
      lists = 0;
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 200 }, () => queryNow(dns.address, name)));
      const elapsed = performance.now() - started;
      expect(new Set(results.map((r) => r.addresses.join(',')))).toEqual(new Set(['127.0.1.1']));
      // One read per refresh interval (1 s) while they ran, plus the first.
      expect(lists).toBeGreaterThanOrEqual(1);
      expect(lists).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 1_000));

      // The drill's own change: served on the very next query, not after the refresh.
      await zone.upsertA({ name, values: ['127.0.2.1'], ttl: 5 }, 'test');
      expect((await queryNow(dns.address, name)).addresses).toEqual(['127.0.2.1']);

      // Negative control of the invalidation: a change made outside the drill is not seen at once
      // (the cache holds), and is within the refresh interval.
      await ownerChange(name, 'A', ['127.0.3.1']);
      expect((await queryNow(dns.address, name)).addresses).toEqual(['127.0.2.1']);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await queryNow(dns.address, name)).addresses).toEqual(['127.0.3.1']);
    } finally {
      await dns.stop();
      await answers.stop();
      await zone.deleteOwned(name, 'run-cache');
      client.destroy();
    }
  }, 60_000);
});
