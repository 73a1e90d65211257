import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-network-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, targets: string, fault = '{type: network-latency}', step = '{step: remove-network-fault}'): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: ${targets}\nworkload:\n  probes:\n    - {type: sql, name: db, query: select 1}\nfaults:\n  - ${fault}\nrecovery:\n  - ${step}\n`);
  return file;
}

const validationError = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');

describe('network fault scenario rules', () => {
  it('loads each network fault with its defaults', async () => {
    const load = async (fault: string, step?: string) => (await loadScenarioFile(scenario('ok', '{postgres: {}, network: {}}', fault, step))).scenario;
    const s = await load('{type: network-latency}');
    expect(s.targets.network).toEqual({ proxy: 'toxiproxy' });
    expect(s.faults[0]).toEqual({ type: 'network-latency', latency: 500, jitter: 0, link: 'application' });
    expect(s.recovery[0]).toMatchObject({ step: 'remove-network-fault' });
    expect((await load('{type: network-latency, latency: 2s, jitter: 100ms}')).faults[0]).toEqual({ type: 'network-latency', latency: 2000, jitter: 100, link: 'application' });
    expect((await load('{type: network-bandwidth, rate: 64}')).faults[0]).toEqual({ type: 'network-bandwidth', rate: 64, link: 'application' });
    expect((await load('{type: network-reset}')).faults[0]).toEqual({ type: 'network-reset', link: 'application' });
    expect((await load('{type: network-reset, duration: 3s}')).faults[0]).toEqual({ type: 'network-reset', duration: 3000, link: 'application' });
    expect((await load('{type: network-timeout}', '{step: remove-network-fault, faults: [network-timeout]}')).recovery[0]).toMatchObject({ faults: ['network-timeout'] });
    expect((await load('{type: network-loss, percent: 30}')).faults[0]).toEqual({ type: 'network-loss', percent: 30, link: 'application' });
    expect((await load('{type: network-partition, duration: 2s}', '{step: remove-network-fault, faults: [network-partition, network-loss]}')).faults[0]).toEqual({ type: 'network-partition', duration: 2000, link: 'application' });
    // wait needs no target: with any fault.
    expect((await loadScenarioFile(scenario('wait', '{postgres: {}}', '{type: pg-primary-crash}', '{step: wait, for: 3s}'))).scenario.recovery[0]).toEqual({ step: 'wait', for: 3000, timeout: 600_000 });
  });

  it('refuses what cannot run, naming the key and what to do', async () => {
    // Packet faults match the application link's listener: the replication link has no packet filter.
    expect(await validationError(scenario('loss-replication', '{postgres: {replicas: 1, provider: native}, network: {}}', '{type: network-loss, percent: 10, link: replication}'))).toMatch(/faults\[0\]\.link/);
    expect(await validationError(scenario('no-network', '{postgres: {}}'))).toMatch(/faults\[0\]\.type: network-latency acts on the link between the application and its database: add targets\.network/);
    expect(await validationError(scenario('step-no-network', '{postgres: {}}', '{type: pg-primary-crash}'))).toMatch(/recovery\[0\]\.step: remove-network-fault .*add targets\.network/);
    expect(await validationError(scenario('no-pg', '{network: {}}'))).toMatch(/targets\.network: .*add targets\.postgres/);
    expect(await validationError(scenario('with-k8s', '{postgres: {}, network: {}, kubernetes: {}}'))).toMatch(/targets\.network: .*targets\.kubernetes do not go through it/);
    expect(await validationError(scenario('no-rate', '{postgres: {}, network: {}}', '{type: network-bandwidth}'))).toMatch(/faults\[0\]\.rate/);
    expect(await validationError(scenario('bad-filter', '{postgres: {}, network: {}}', undefined, '{step: remove-network-fault, faults: [network-jitter]}'))).toMatch(/recovery\[0\]\.faults\[0\]/);
    expect(await validationError(scenario('zero-duration', '{postgres: {}, network: {}}', '{type: network-timeout, duration: 0s}'))).toMatch(/faults\[0\]\.duration: must be more than 0/);
    expect(await validationError(scenario('wait-forever', '{postgres: {}, network: {}}', undefined, '{step: wait}'))).toMatch(/recovery\[0\]\.for/);
    expect(await validationError(scenario('loss-no-percent', '{postgres: {}, network: {}}', '{type: network-loss}'))).toMatch(/faults\[0\]\.percent/);
    expect(await validationError(scenario('loss-too-much', '{postgres: {}, network: {}}', '{type: network-loss, percent: 150}'))).toMatch(/faults\[0\]\.percent: .*100/);
    expect(await validationError(scenario('loss-fraction', '{postgres: {}, network: {}}', '{type: network-loss, percent: 2.5}'))).toMatch(/faults\[0\]\.percent/);
    expect(await validationError(scenario('partition-no-network', '{postgres: {}}', '{type: network-partition}'))).toMatch(/faults\[0\]\.type: network-partition acts on the link .*add targets\.network/);
    expect(await validationError(scenario('partition-extra-key', '{postgres: {}, network: {}}', '{type: network-partition, ports: [5432]}'))).toMatch(/faults\[0\].*ports/);
    expect(await validationError(scenario('other-proxy', '{postgres: {}, network: {proxy: chaos-mesh}}'))).toMatch(/targets\.network\.proxy/);
  });
});
