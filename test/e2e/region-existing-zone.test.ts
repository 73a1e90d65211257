import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/engine/clock.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { MotoServer } from '../../src/targets/regions/moto-server.js';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';
import { scanFiles } from './secret-scan.js';

// A region drill in an existing hosted zone (targets.regions.dns.route53), the real-AWS mode, with a
// real moto server of the test's standing in for AWS: the zone is created "externally", as the
// user's account would hold it, with a foreign record; the drill is pointed at it by id with the
// endpoint override, and its credentials come from the environment (the AWS chain).
const ZONE = 'example-corp.test.';
const FOREIGN = `www.${ZONE}`;
const SERVICE = `drill-api.${ZONE}`;
const SECRET = 'drill-e2e-existing-zone-secret-9c1f4e2a7b';
const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-existing-zone-'));
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-existing-zone-runs-'));
const env = { DRILL_RUNS_DIR: runs, AWS_ACCESS_KEY_ID: 'AKIDDRILLE2EEXISTING', AWS_SECRET_ACCESS_KEY: SECRET };
let moto: MotoServer | undefined;
let owner: Route53Client;
let zoneId: string;
let scenarioFile: string;

interface Listed {
  name: string;
  type: string;
  values: string[];
}

async function listAll(): Promise<Listed[]> {
  const out = await owner.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return (out.ResourceRecordSets ?? []).filter((r) => r.Type !== 'SOA' && r.Type !== 'NS').map((r) => ({ name: r.Name ?? '', type: r.Type ?? '', values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '') }));
}

async function ownerChange(action: 'UPSERT' | 'DELETE', name: string, values: string[]): Promise<void> {
  await owner.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: values.map((Value) => ({ Value })) } }] } }));
}

const FOREIGN_ONLY = [{ name: FOREIGN, type: 'A', values: ['192.0.2.10'] }];

beforeAll(async () => {
  moto = await MotoServer.start({ ledger: new ResourceLedger(path.join(reportsDir, 'test-moto-resources.jsonl')), runId: 'test-existing-zone-e2e', register: (m) => (moto = m) });
  owner = Route53Zone.client(moto.endpoint);
  const created = await owner.send(new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `owner-${Date.now()}` }));
  zoneId = created.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
  await ownerChange('UPSERT', FOREIGN, ['192.0.2.10']);
  // The catalogue's region-outage-dns-failover, pointed at the existing zone by id.
  const catalogue = readFileSync(path.join(ROOT, 'drills/scenarios/region-outage-dns-failover.yaml'), 'utf8');
  const dnsLine = '    dns: { zone: truststream.drill.test, record: api, ttl: 5 }';
  expect(catalogue).toContain(dnsLine);
  scenarioFile = path.join(reportsDir, 'region-existing-zone.yaml');
  writeFileSync(
    scenarioFile,
    catalogue
      .replace('name: region-outage-dns-failover', 'name: region-existing-zone')
      .replace(dnsLine, `    dns: { zone: example-corp.test, record: drill-api, ttl: 5, route53: { hostedZoneId: ${zoneId}, endpoint: '${moto.endpoint}' } }`),
  );
}, 90_000);

afterAll(async () => {
  await runCli(['cleanup'], { env });
  owner?.destroy();
  await moto?.stop();
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});
afterEach(() => expect(listRunLedgers(runs), 'a run ledger was left in the runs directory').toEqual([]));

describe('a region drill in an existing hosted zone (moto standing in for AWS)', () => {
  it('passes, with its own record and marker only while it runs; the foreign record untouched; no credential in any artifact', async () => {
    expect(await listAll()).toEqual(FOREIGN_ONLY);
    const seen = new Set<string>();
    let running = true;
    const cli = runCli(['run', scenarioFile, '--reports-dir', reportsDir], { env }).finally(() => (running = false));
    while (running) {
      for (const set of await listAll()) seen.add(`${set.name} ${set.type} ${set.values.join(',')}`);
      await sleep(200);
    }
    const result = await cli;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const runId = path.basename(runDir);
    // During: the marker of this run, and the service record at the primary, then the DR region.
    expect(seen).toContain(`${SERVICE} TXT "drill-owner=${runId}"`);
    expect([...seen].filter((s) => s.startsWith(`${SERVICE} A 127.0.1.`))).not.toEqual([]);
    expect([...seen].filter((s) => s.startsWith(`${SERVICE} A 127.0.2.`))).not.toEqual([]);
    // After: only what was there before.
    expect(await listAll()).toEqual(FOREIGN_ONLY);
    const journal = readJournal(runDir);
    expect(journal.events.find((e) => e.kind === 'regions')?.message).toContain(`existing hosted zone at ${moto!.endpoint}`);
    expect(readResources(path.join(runDir, 'resources.jsonl')).filter((r) => r.kind === 'route53-record')).toEqual([
      { kind: 'route53-record', endpoint: moto!.endpoint, region: 'us-east-1', zoneId, zoneName: ZONE, name: SERVICE, runId },
    ]);
    // The AWS secret key came from the environment: it is in no file of the run.
    expect(scanFiles(runDir, [SECRET]).hits).toEqual([]);
  });

  it('negative control: a same-name record without the marker is refused (exit 2, named), and nothing of the zone is changed', async () => {
    await ownerChange('UPSERT', SERVICE, ['192.0.2.20']);
    try {
      const result = await runCli(['run', scenarioFile, '--reports-dir', reportsDir], { env });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stdout + result.stderr).toMatch(/ROUTE53_RECORD_NOT_DRILLS|drill-api\.example-corp\.test\. in hosted zone \S+ already has records the drill did not create \(A 192\.0\.2\.20\)/);
      expect(result.stdout + result.stderr).toContain(SERVICE);
      expect(await listAll()).toEqual([...FOREIGN_ONLY, { name: SERVICE, type: 'A', values: ['192.0.2.20'] }].sort((a, b) => a.name.localeCompare(b.name)));
    } finally {
      await ownerChange('DELETE', SERVICE, ['192.0.2.20']);
    }
    expect(await listAll()).toEqual(FOREIGN_ONLY);
  });

  it('kill -9 of the drill while it recovers: drill cleanup deletes its record and marker, and nothing else of the zone', async () => {
    const killed = await runAndKill({
      scenario: scenarioFile,
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'recover',
      when: (s) => s.started.includes('Recover (runbook steps)'),
    });
    await ownersGone(killed.ledgerFile);
    // Left behind by the killed drill: its record and its marker.
    const names = (await listAll()).filter((s) => s.name === SERVICE);
    expect(names.map((s) => s.type).sort()).toEqual(['A', 'TXT']);
    expect(names.find((s) => s.type === 'TXT')?.values).toEqual([`"drill-owner=${killed.runId}"`]);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(await listAll()).toEqual(FOREIGN_ONLY);
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
    expect(scanFiles(killed.runDir, [SECRET]).hits).toEqual([]);
  });
  it('bad input: failover routing in an existing zone, or a malformed zone id, exits 2 naming file, line and key, and starts nothing', async () => {
    const source = readFileSync(scenarioFile, 'utf8');
    const cases = [
      { bad: source.replace('ttl: 5, route53:', 'ttl: 5, failover: { resourcePath: /health }, route53:'), mark: 'failover:', message: /targets\.regions\.dns\.failover: .*not available in an existing hosted zone/ },
      { bad: source.replace(`hostedZoneId: ${zoneId},`, 'hostedZoneId: not-a-zone-id,'), mark: 'not-a-zone-id', message: /targets\.regions\.dns\.route53\.hostedZoneId: .*hosted zone id/ },
    ];
    for (const [i, { bad, mark, message }] of cases.entries()) {
      const file = path.join(reportsDir, `bad-existing-zone-${i}.yaml`);
      writeFileSync(file, bad);
      const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(2);
      expect(output).toContain(`${file}:${bad.split('\n').findIndex((l) => l.includes(mark)) + 1}:`);
      expect(output).toMatch(message);
    }
    expect(listRunLedgers(runs)).toEqual([]);
    expect(await listAll()).toEqual(FOREIGN_ONLY);
  });
});
