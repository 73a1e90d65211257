import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-regions-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, targets: string, fault = '{type: region-outage}', step = '{step: dns-failover}'): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: ${targets}\nworkload:\n  probes:\n    - {type: http, name: health, target: service}\nfaults:\n  - ${fault}\nrecovery:\n  - ${step}\n`);
  return file;
}

describe('region scenario rules', () => {
  it('loads two regions with their defaults', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('ok', '{postgres: {replicas: 1}, regions: {}}'));
    expect(s.targets.regions).toMatchObject({
      primary: { name: 'us-west-2', range: '127.0.1.0/24' },
      dr: { name: 'us-east-1', range: '127.0.2.0/24' },
      dns: { zone: 'truststream.drill.test', record: 'api', ttl: 5 },
      service: { version: '4.4.0', replicas: { api: 2, worker: 1, scheduler: 1 } },
    });
    expect(s.faults[0]).toEqual({ type: 'region-outage', region: 'primary', mode: 'kill' });
    expect(s.recovery[0]).toMatchObject({ step: 'dns-failover', to: 'dr' });
  });

  it('takes an existing Route 53 zone by id (endpoint optional, signing region us-east-1 by default), and refuses what it cannot do there', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('existing-zone', '{postgres: {replicas: 1}, regions: {dns: {zone: example.com, record: drill-api, route53: {hostedZoneId: /hostedzone/Z0123ABC}}}}'));
    expect(s.targets.regions?.dns).toMatchObject({ zone: 'example.com', record: 'drill-api', route53: { hostedZoneId: 'Z0123ABC', region: 'us-east-1' } });
    expect(s.targets.regions?.dns.route53).not.toHaveProperty('endpoint');
    const validationError = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');
    expect(await validationError(scenario('zone-failover', '{postgres: {replicas: 1}, regions: {dns: {failover: {}, route53: {hostedZoneId: Z1}}}}'))).toMatch(/targets\.regions\.dns\.failover: .*not available in an existing hosted zone/);
    expect(await validationError(scenario('zone-id', '{postgres: {replicas: 1}, regions: {dns: {route53: {hostedZoneId: "z-1"}}}}'))).toMatch(/targets\.regions\.dns\.route53\.hostedZoneId: .*hosted zone id/);
    expect(await validationError(scenario('zone-endpoint', '{postgres: {replicas: 1}, regions: {dns: {route53: {hostedZoneId: Z1, endpoint: "ftp://x"}}}}'))).toMatch(/targets\.regions\.dns\.route53\.endpoint/);
    // Credentials never come from the scenario.
    expect(await validationError(scenario('zone-key', '{postgres: {replicas: 1}, regions: {dns: {route53: {hostedZoneId: Z1, secretAccessKey: x}}}}'))).toMatch(/targets\.regions\.dns\.route53.*secretAccessKey/);
  });

  it('takes mode blackhole and a promote-replica addressed to a region', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('blackhole', '{postgres: {provider: native, replicas: 1}, regions: {}}', '{type: region-outage, mode: blackhole}', '{step: promote-replica, region: us-east-1}'));
    expect(s.faults[0]).toEqual({ type: 'region-outage', region: 'primary', mode: 'blackhole' });
    expect(s.recovery[0]).toMatchObject({ step: 'promote-replica', region: 'us-east-1' });
  });

  it('takes network: drop on a region-outage, and refuses another value naming file, line and key', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('drop', '{postgres: {provider: native, replicas: 1}, regions: {}}', '{type: region-outage, mode: blackhole, network: drop}', '{step: promote-replica, region: dr}'));
    expect(s.faults[0]).toEqual({ type: 'region-outage', region: 'primary', mode: 'blackhole', network: 'drop' });
    // Line 10 is the fault's item in these fixtures.
    const [issue, ...more] = (await invalid(loadScenarioFile(scenario('drop-range', '{postgres: {replicas: 1}, regions: {}}', '{type: region-outage, network: drop-range}')))).issues;
    expect(more).toEqual([]);
    expect(issue).toMatchObject({ keyPath: 'faults[0].network', line: 10 });
    expect(issue!.file).toMatch(/drop-range\.yaml$/);
    expect(issue!.message).toMatch(/drop/);
  });

  it('refuses what cannot run, naming the key and what to do', async () => {
    const validationError = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');
    expect(await validationError(scenario('no-pg', '{regions: {}}'))).toMatch(/targets\.regions: .*add targets\.postgres/);
    // Each region runs its own PostgreSQL: the primary and one streaming replica, native processes on the regions' ranges.
    expect(await validationError(scenario('no-replica', '{postgres: {}, regions: {}}'))).toMatch(/targets\.postgres: .*set targets\.postgres\.replicas: 1/);
    expect(await validationError(scenario('two-replicas', '{postgres: {replicas: 2}, regions: {}}'))).toMatch(/targets\.postgres\.replicas: .*replicas: 1/);
    expect(await validationError(scenario('containers', '{postgres: {provider: testcontainers, replicas: 1}, regions: {}}'))).toMatch(/targets\.postgres\.provider: .*set provider: native/);
    expect(await validationError(scenario('bad-mode', '{postgres: {replicas: 1}, regions: {}}', '{type: region-outage, mode: partition}'))).toMatch(/faults\[0\]\.mode/);
    expect(await validationError(scenario('promote-unknown', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: promote-replica, region: eu-west-1}'))).toMatch(/recovery\[0\]\.region: no region eu-west-1/);
    expect(await validationError(scenario('promote-both', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: promote-replica, region: dr, replica: replica-1}'))).toMatch(/recovery\[0\]\.replica: .*keep one of them/);
    expect(await validationError(scenario('promote-no-regions', '{postgres: {replicas: 1}}', '{type: pg-primary-crash}', '{step: promote-replica, region: dr}'))).toMatch(/recovery\[0\]\.region: .*no targets\.regions/);
    expect(await validationError(scenario('with-service', '{postgres: {}, service: {}, regions: {}}'))).toMatch(/remove targets\.service/);
    expect(await validationError(scenario('not-loopback', '{postgres: {replicas: 1}, regions: {dr: {range: 10.0.2.0/24}}}'))).toMatch(/targets\.regions\.dr\.range: .*loopback/);
    expect(await validationError(scenario('same-range', '{postgres: {replicas: 1}, regions: {dr: {range: 127.0.1.0/24}}}'))).toMatch(/its own loopback range/);
    expect(await validationError(scenario('unknown-region', '{postgres: {replicas: 1}, regions: {}}', '{type: region-outage, region: eu-west-1}'))).toMatch(/faults\[0\]\.region: no region eu-west-1: name one of primary, dr, us-west-2, us-east-1/);
    expect(await validationError(scenario('unknown-to', '{postgres: {replicas: 1}, regions: {dr: {name: eu-central-1}}}', undefined, '{step: dns-failover, to: us-east-1}'))).toMatch(/recovery\[0\]\.to: no region us-east-1/);
    expect(await validationError(scenario('no-regions', '{postgres: {}, service: {}}'))).toMatch(/region-outage acts on regions: add targets\.regions/);
  });

  it('takes failover routing and the runbook-worded DR steps, with their defaults', async () => {
    const targets = '{postgres: {replicas: 1}, regions: {dns: {ttl: 2, failover: {requestInterval: 1}}}}';
    const { scenario: s } = await loadScenarioFile(scenario('failover-ok', targets, undefined, '{step: activate-dr-site, automaticFailover: true}'));
    expect(s.targets.regions?.dns.failover).toEqual({ resourcePath: '/health', requestInterval: 1, failureThreshold: 3 });
    expect(s.recovery[0]).toMatchObject({ step: 'activate-dr-site', primaryRegion: 'primary', drRegion: 'dr', automaticFailover: true, timeout: 120_000 });
    const { scenario: v } = await loadScenarioFile(scenario('verify-ok', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: verify-dr, drRegion: us-east-1}'));
    expect(v.recovery[0]).toMatchObject({ step: 'verify-dr', drRegion: 'us-east-1', requestTimeout: 5_000 });
    // Simple routing is what it was: no failover record sets.
    const { scenario: plain } = await loadScenarioFile(scenario('plain', '{postgres: {replicas: 1}, regions: {}}'));
    expect(plain.targets.regions?.dns.failover).toBeUndefined();
  });

  it('refuses bad failover routing and DR step input, naming file, line and key', async () => {
    const issues = async (file: string) => (await invalid(loadScenarioFile(file))).issues;
    const one = async (file: string) => {
      const all = await issues(file);
      expect(all.length).toBe(1);
      return all[0]!;
    };
    // Line 5 is `targets:` (one line in these fixtures), recovery's item is line 12.
    const interval = await one(scenario('interval-0', '{postgres: {replicas: 1}, regions: {dns: {failover: {requestInterval: 0}}}}', undefined, '{step: activate-dr-site}'));
    expect(interval).toMatchObject({ keyPath: 'targets.regions.dns.failover.requestInterval', line: 5 });
    expect(interval.file).toMatch(/interval-0\.yaml$/);
    expect(interval.message).toMatch(/at least 1/);
    expect((await one(scenario('threshold-11', '{postgres: {replicas: 1}, regions: {dns: {failover: {failureThreshold: 11}}}}', undefined, '{step: activate-dr-site}'))).keyPath).toBe('targets.regions.dns.failover.failureThreshold');
    expect((await one(scenario('bad-path', '{postgres: {replicas: 1}, regions: {dns: {failover: {resourcePath: health}}}}', undefined, '{step: activate-dr-site}'))).message).toMatch(/starting with \//);
    expect((await one(scenario('typo', '{postgres: {replicas: 1}, regions: {dns: {failover: {interval: 1}}}}', undefined, '{step: activate-dr-site}'))).keyPath).toMatch(/targets\.regions\.dns\.failover/);
    // Automatic failover without failover routing: nothing would flip the answer.
    const automatic = await one(scenario('auto-no-routing', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: activate-dr-site, automaticFailover: true}'));
    expect(automatic).toMatchObject({ keyPath: 'recovery[0].automaticFailover', line: 12 });
    expect(automatic.message).toMatch(/add targets\.regions\.dns\.failover/);
    // An UPSERT beside failover record sets: Route 53 would refuse it, and the drill is about not needing it.
    const upsert = await one(scenario('upsert-with-routing', '{postgres: {replicas: 1}, regions: {dns: {failover: {}}}}'));
    expect(upsert).toMatchObject({ keyPath: 'recovery[0].step', line: 12 });
    expect(upsert.message).toMatch(/remove this dns-failover step/);
    expect((await one(scenario('dr-unknown', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: activate-dr-site, drRegion: eu-west-1}'))).message).toMatch(/no region eu-west-1/);
    expect((await one(scenario('dr-same', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: activate-dr-site, primaryRegion: us-east-1}'))).message).toMatch(/both the lost primary and the DR region/);
    expect((await one(scenario('dr-same-names', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: activate-dr-site, primaryRegion: us-west-2, drRegion: primary}'))).keyPath).toBe('recovery[0].drRegion');
    expect((await one(scenario('verify-unknown', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: verify-dr, drRegion: eu-west-1}'))).keyPath).toBe('recovery[0].drRegion');
    expect((await one(scenario('verify-no-regions', '{postgres: {}, service: {}}', '{type: pg-primary-crash}', '{step: verify-dr}'))).message).toMatch(/targets\.regions/);
  });

  it('failback: takes its defaults, and refuses what it cannot fail back from (a frozen region, failover routing, an unknown region)', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('failback', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: failback}'));
    expect(s.recovery[0]).toMatchObject({ step: 'failback', primaryRegion: 'primary', drRegion: 'dr', fenceDr: true, catchUpTimeout: 60_000, timeout: 180_000 });
    const issues = async (file: string) => (await invalid(loadScenarioFile(file))).issues;
    // The frozen processes of a blackhole outage still hold the addresses the region's service must bind again.
    const frozen = await issues(scenario('failback-blackhole', '{postgres: {replicas: 1}, regions: {}}', '{type: region-outage, mode: blackhole}', '{step: failback}'));
    expect(frozen).toHaveLength(1);
    expect(frozen[0]).toMatchObject({ keyPath: 'faults[0].mode', line: 10 });
    expect(frozen[0]!.message).toMatch(/use mode: kill/);
    const same = await issues(scenario('failback-same', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: failback, primaryRegion: dr}'));
    expect(same.map((i) => `${i.keyPath}: ${i.message}`)).toEqual([expect.stringMatching(/^recovery\[0\]\.drRegion: failback names one region as both the lost primary and the DR region/)]);
    expect(same[0]!.line).toBeGreaterThan(0);
    const dropped = await issues(scenario('failback-drop', '{postgres: {replicas: 1}, regions: {}}', '{type: region-outage, mode: kill, network: drop}', '{step: failback}'));
    expect(dropped.map((i) => i.keyPath)).toEqual(['faults[0].network']);
    expect(dropped[0]!.message).toMatch(/leave out network: drop, or leave out failback/);
    const routing = await issues(scenario('failback-routing', '{postgres: {replicas: 1}, regions: {dns: {failover: {}}}}', undefined, '{step: failback}'));
    expect(routing.map((i) => i.keyPath)).toEqual(['recovery[0].step']);
    expect(routing[0]!.message).toMatch(/failback moves the record back by UPSERT/);
    const unknown = await issues(scenario('failback-unknown', '{postgres: {replicas: 1}, regions: {}}', undefined, '{step: failback, primaryRegion: eu-west-1}'));
    expect(unknown.map((i) => `${i.keyPath}: ${i.message}`)).toEqual([expect.stringMatching(/^recovery\[0\]\.primaryRegion: no region eu-west-1/)]);
    expect((await issues(scenario('failback-no-regions', '{postgres: {}, service: {}}', '{type: pg-primary-crash}', '{step: failback}')))[0]!.message).toMatch(/targets\.regions/);
  });
});
