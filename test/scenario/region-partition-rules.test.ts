import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { causesOutage } from '../../src/scenario/fault-effects.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-region-partition-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Line 5 is `targets:`, the faults' items start on line 10, recovery's on line 12 (one per line).
function scenario(name: string, targets: string, faults: string[] = ['{type: region-partition}'], steps: string[] = ['{step: heal-region-partition}']): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: ${targets}\nworkload:\n  probes:\n    - {type: http, name: health, target: service}\nfaults:\n${faults.map((f) => `  - ${f}\n`).join('')}recovery:\n${steps.map((s) => `  - ${s}\n`).join('')}`,
  );
  return file;
}

const REGIONS = '{postgres: {provider: native, replicas: 1}, regions: {}}';

describe('region-partition scenario rules', () => {
  it('loads the fault and its heal step with their defaults', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('ok', REGIONS));
    expect(s.faults[0]).toEqual({ type: 'region-partition' });
    expect(s.recovery[0]).toMatchObject({ step: 'heal-region-partition', timeout: 60_000 });
  });

  it('is silent with asynchronous replication (nothing the clients see fails), not with sync', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('silent', REGIONS));
    expect(causesOutage(s)).toBe(false);
    const { scenario: sync } = await loadScenarioFile(scenario('sync', '{postgres: {provider: native, replicas: 1, replication: sync}, regions: {}}'));
    expect(causesOutage(sync)).toBe(true);
  });

  it('refuses a region-partition without targets.regions, naming file, line and key', async () => {
    const error = await invalid(loadScenarioFile(scenario('no-regions', '{postgres: {replicas: 1}, service: {}}', ['{type: region-partition}'], ['{step: wait, for: 1s}'])));
    const issue = error.issues.find((i) => i.keyPath.startsWith('faults[0]'))!;
    expect(issue.file).toMatch(/no-regions\.yaml$/);
    expect(issue.line).toBe(10);
    expect(issue.message).toMatch(/add targets\.regions/);
  });

  it('refuses heal-region-partition without the fault, and pg-replication-lag beside it', async () => {
    const issues = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`);
    expect(await issues(scenario('heal-alone', REGIONS, ['{type: region-outage}']))).toEqual([
      expect.stringMatching(/^12 recovery\[0\]\.step: heal-region-partition heals the inter-region link a region-partition fault cuts, and the scenario has none: add a fault/),
    ]);
    expect(await issues(scenario('with-lag', REGIONS, ['{type: pg-replication-lag, holdFor: 2s}', '{type: region-partition}']))).toEqual([
      expect.stringMatching(/^10 faults\[0\]\.type: pg-replication-lag stops the DR replica's WAL receiver.*keep one of them/),
    ]);
    // A typo in the step's keys is the schema's: named with the key.
    expect((await issues(scenario('bad-key', REGIONS, undefined, ['{step: heal-region-partition, timout: 1m}']))).join('\n')).toMatch(/recovery\[0\].*timout/);
  });
});
