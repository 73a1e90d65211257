import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { causesOutage } from '../../src/scenario/fault-effects.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-replication-link-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NATIVE = '{postgres: {provider: native, replicas: 1}, network: {}}';

function scenario(name: string, targets: string, faults: string[], steps = ['{step: promote-replica}']): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: ${targets}\nworkload:\n  probes:\n    - {type: sql, name: db, query: select 1}\n` +
      `faults:\n${faults.map((f) => `  - ${f}\n`).join('')}recovery:\n${steps.map((s) => `  - ${s}\n`).join('')}`,
  );
  return file;
}

const validationError = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.line}:${i.keyPath}: ${i.message}`).join('\n');

describe('network faults on the replication link (schema and rules)', () => {
  it('loads link: replication with holdFor, defaults link to application, and remove-network-fault with link', async () => {
    const { scenario: s } = await loadScenarioFile(
      scenario('ok', NATIVE, ['{type: network-reset, link: replication, holdFor: 4s}', '{type: pg-primary-crash}'], ['{step: remove-network-fault, link: replication}']),
    );
    expect(s.faults[0]).toEqual({ type: 'network-reset', link: 'replication', holdFor: 4000 });
    expect(s.recovery[0]).toMatchObject({ step: 'remove-network-fault', link: 'replication' });
    const plain = (await loadScenarioFile(scenario('plain', NATIVE, ['{type: network-latency}'], ['{step: remove-network-fault}']))).scenario;
    expect(plain.faults[0]).toEqual({ type: 'network-latency', latency: 500, jitter: 0, link: 'application' });
    expect(plain.recovery[0]).toMatchObject({ link: 'application' });
    // Asynchronous replicas falling behind take nothing down (no detection by probes); synchronous ones would hang every commit.
    expect(causesOutage(s)).toBe(true);
    const alone = (await loadScenarioFile(scenario('alone', NATIVE, ['{type: network-timeout, link: replication}']))).scenario;
    expect(causesOutage(alone)).toBe(false);
    const sync = (await loadScenarioFile(scenario('sync', '{postgres: {provider: native, replicas: 1, replication: sync}, network: {}}', ['{type: network-timeout, link: replication}']))).scenario;
    expect(causesOutage(sync)).toBe(true);
  });

  it('refuses link: replication without a replica, naming the line, the key and what to do', async () => {
    const file = scenario('no-replica', '{postgres: {provider: native}, network: {}}', ['{type: network-reset, link: replication}']);
    expect(await validationError(file)).toMatch(/^10:faults\[0\]\.link: needs a streaming replica: set targets\.postgres\.replicas: 1 or more/m);
  });

  it('refuses a provider whose replicas cannot reach a loopback proxy', async () => {
    const file = scenario('tc', '{postgres: {provider: testcontainers, replicas: 1}, network: {}}', ['{type: network-reset, link: replication}']);
    expect(await validationError(file)).toMatch(/faults\[0\]\.link: the replicas stream through a proxy on this machine's loopback.*set targets\.postgres\.provider: native/);
  });

  it('refuses holdFor off the replication link, and as the last fault', async () => {
    expect(await validationError(scenario('hold-app', NATIVE, ['{type: network-reset, holdFor: 2s}', '{type: pg-primary-crash}']))).toMatch(
      /faults\[0\]\.holdFor: holdFor holds a broken replication link before the next fault; add link: replication/,
    );
    expect(await validationError(scenario('hold-last', NATIVE, ['{type: network-reset, link: replication, holdFor: 2s}']))).toMatch(
      /faults\[0\]\.holdFor: with holdFor the fault is a precondition that does not set T_fault; follow it with the fault itself/,
    );
    expect(await validationError(scenario('hold-outlived', NATIVE, ['{type: network-reset, link: replication, holdFor: 4s, duration: 3s}', '{type: pg-primary-crash}']))).toMatch(
      /faults\[0\]\.duration: the fault would end by itself before its holdFor is over/,
    );
    expect((await loadScenarioFile(scenario('hold-lasts', NATIVE, ['{type: network-reset, link: replication, holdFor: 2s, duration: 1m}', '{type: pg-primary-crash}']))).scenario.faults[0]).toMatchObject({ duration: 60_000 });
    expect(await validationError(scenario('hold-zero', NATIVE, ['{type: network-reset, link: replication, holdFor: 0s}', '{type: pg-primary-crash}']))).toMatch(/faults\[0\]\.holdFor: must be more than 0/);
  });

  it('refuses pg-replication-lag with a replication-link fault (it stops the streaming the link would carry)', async () => {
    const file = scenario('with-lag', NATIVE, ['{type: pg-replication-lag, holdFor: 2s}', '{type: network-reset, link: replication}', '{type: pg-primary-crash}']);
    expect(await validationError(file)).toMatch(/faults\[0\]\.type: pg-replication-lag stops the replicas' WAL receivers, so the fault on link: replication would degrade a link nothing streams over/);
  });

  it('refuses healing the replication link when no fault acts on it, and a link that does not exist', async () => {
    expect(await validationError(scenario('heal-none', NATIVE, ['{type: network-reset}'], ['{step: remove-network-fault, link: replication}']))).toMatch(
      /recovery\[0\]\.link: no fault acts on the replication link/,
    );
    expect(await validationError(scenario('bad-link', NATIVE, ['{type: network-reset, link: storage}']))).toMatch(/faults\[0\]\.link/);
  });
});
