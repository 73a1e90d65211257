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

  it('takes mode blackhole and a promote-replica addressed to a region', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('blackhole', '{postgres: {provider: native, replicas: 1}, regions: {}}', '{type: region-outage, mode: blackhole}', '{step: promote-replica, region: us-east-1}'));
    expect(s.faults[0]).toEqual({ type: 'region-outage', region: 'primary', mode: 'blackhole' });
    expect(s.recovery[0]).toMatchObject({ step: 'promote-replica', region: 'us-east-1' });
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
});
