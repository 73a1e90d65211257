import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-threshold-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, step: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: {postgres: {replicas: 1}}\nworkload:\n  probes:\n    - {type: sql, name: db, query: select 1}\nfaults:\n  - {type: pg-primary-crash}\nrecovery:\n  - ${step}\n`,
  );
  return file;
}

describe('promote-replica unreachableFor', () => {
  it('loads a threshold that leaves the promotion time', async () => {
    const loaded = await loadScenarioFile(scenario('ok', '{step: promote-replica, unreachableFor: 3s, timeout: 2m}'));
    expect(loaded.scenario.recovery[0]).toMatchObject({ step: 'promote-replica', unreachableFor: 3000, timeout: 120_000 });
    // Default timeout (10m): a 4m threshold still fits.
    expect((await loadScenarioFile(scenario('default-timeout', '{step: promote-replica, unreachableFor: 4m}'))).scenario.recovery[0]).toMatchObject({ unreachableFor: 240_000 });
  });

  it('refuses a threshold that leaves no time to promote, naming line, key and what to do (exit 2)', async () => {
    const error = await invalid(loadScenarioFile(scenario('too-long', '{step: promote-replica, unreachableFor: 10s, timeout: 12s}')));
    const messages = error.issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');
    expect(messages).toMatch(/recovery\[0\]\.unreachableFor: a threshold of 10s leaves no time to promote within the step's timeout of 12s: keep unreachableFor at most 5\.4s, or raise timeout/);
    const issue = error.issues.find((i) => i.keyPath === 'recovery[0].unreachableFor')!;
    expect(issue.file).toMatch(/too-long\.yaml$/);
    expect(issue.line).toBe(12);
  });
});
