import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-notify-updates-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, extra: string, step = '{step: migration-current}'): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P2\ntargets: {postgres: {provider: native}}\nworkload:\n  probes:\n    - {type: sql, name: q, query: select 1}\n` +
      `faults:\n  - {type: pg-primary-crash}\nrecovery:\n  - ${step}\n${extra}`,
  );
  return file;
}

const load = (file: string) => loadScenarioFile(file, {});
const problems = async (file: string) => (await invalid(load(file))).issues.map((i) => `${i.line}:${i.keyPath}: ${i.message}`).join('\n');
const hook = '  channels:\n    - {type: webhook, name: hook, url: "http://127.0.0.1:9/"}\n';

describe('notifications: updates and rollback triggers (scenario rules)', () => {
  it('on: update with its period and tolerance; defaults 15m and 30s', async () => {
    const { scenario: s } = await load(scenario('updates', `notifications:\n  on: [detection, update, resolution]\n  updateEvery: 2s\n  updateTolerance: 1s\n${hook}`));
    expect(s.notifications).toMatchObject({ on: ['detection', 'update', 'resolution'], updateEvery: 2000, updateTolerance: 1000 });
    const { scenario: d } = await load(scenario('defaults', `notifications:\n${hook}`));
    expect(d.notifications).toMatchObject({ updateEvery: 900_000, updateTolerance: 30_000 });
  });

  it('refuses an updateEvery under 1s, naming line and key', async () => {
    expect(await problems(scenario('flood', `notifications:\n  on: [detection, update]\n  updateEvery: 200ms\n${hook}`))).toMatch(/^15:notifications\.updateEvery: must be at least 1s here/);
  });

  it('refuses on: rollback without a rollback step, and accepts it with migration-rollback', async () => {
    expect(await problems(scenario('no-rollback', `notifications:\n  on: [detection, rollback]\n${hook}`))).toMatch(/^14:notifications\.on: on: rollback announces the end of a rollback step, and recovery has none/);
    const { scenario: s } = await load(scenario('rollback', `notifications:\n  on: [detection, rollback]\n${hook}`, '{step: migration-rollback, toVersion: "007"}'));
    expect(s.notifications!.on).toEqual(['detection', 'rollback']);
  });

  it('refuses expect.notificationUpdates without notifications:', async () => {
    expect(await problems(scenario('no-channels', 'expect:\n  rto: 1m\n  notificationUpdates: true\n'))).toMatch(/expect\.notificationUpdates: updates go to the channels of notifications:, and the scenario has none/);
  });
});
