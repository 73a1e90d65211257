import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { runDrill } from '../../src/engine/run-drill.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { dockerRequest } from '../../src/targets/docker/docker-api.js';
import { ROOT } from '../e2e/helpers.js';
import { engine, IMAGE, SKIP } from './engine.js';
import { EXPECTED } from './pg-expected.js';

/**
 * The provider matrix: every PostgreSQL scenario of the catalogue, run on the testcontainers
 * provider, must pass or fail exactly as it does on the native provider (test/e2e/, which runs
 * them through the CLI on native PostgreSQL). Drills run in this process, two at a time, against
 * the one engine of the test run; each checks that its container is gone afterwards.
 */

const scenariosDir = path.join(ROOT, 'drills/scenarios');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-tc-matrix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the PostgreSQL catalogue has an expected outcome on testcontainers for each scenario', () => {
  it('lists every scenario that targets PostgreSQL alone', async () => {
    const postgresOnly: string[] = [];
    for (const file of readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml'))) {
      const { scenario } = await loadScenarioFile(path.join(scenariosDir, file));
      // Disk drills mount their WAL or data volume on this machine (targets.postgres.walVolume, dataVolume): native only.
      if (scenario.targets.postgres?.walVolume || scenario.targets.postgres?.dataVolume || scenario.targets.postgres?.dataPassthrough) continue;
      // Resource drills move the server's processes into a cgroup of this machine: native only.
      if (scenario.faults.some((f) => f.type === 'cpu-stress' || f.type === 'memory-stress')) continue;
      // preserve-forensics reads the server's log from its data directory and verifies its base
      // backup on this machine: run on native PostgreSQL only until a container's logs are collected.
      if (scenario.recovery.some((s) => s.step === 'preserve-forensics')) continue;
      // Region drills place each region's PostgreSQL on the region's loopback range, which only the native provider can do.
      // Network drills (targets.network, issue 12): Toxiproxy in front of a container's published
      // port has not been run on testcontainers yet; not in this matrix until it has.
      // Clock drills (issue 12, clock skew): the skew is on the service's processes, not the database;
      // not run against a container's PostgreSQL yet, so not in this matrix until they have been.
      const clock = scenario.faults.some((f) => f.type === 'clock-skew');
      if (scenario.targets.postgres && !scenario.targets.kubernetes && !scenario.targets.regions && !scenario.targets.network && !clock) postgresOnly.push(scenario.name);
    }
    expect(postgresOnly.sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});

describe.skipIf(!engine).concurrent(`the PostgreSQL catalogue on the testcontainers provider${SKIP}`, () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: ${expected.status}${expected.failed.length ? ` on ${expected.failed.join(', ')}` : ''}, as on native PostgreSQL`, { timeout: 600_000 }, async () => {
      const loaded = await loadScenarioFile(path.join(scenariosDir, `${name}.yaml`));
      loaded.scenario.targets.postgres = { ...loaded.scenario.targets.postgres!, provider: 'testcontainers', image: IMAGE };
      const ledger = path.join(tmp, `${name}.jsonl`);
      const runDir = path.join(tmp, name);
      const journal = await runDrill(loaded, { runId: `tc-${name}-${Date.now()}`, ledger: new ResourceLedger(ledger), runDir });

      const failed = journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
      const summary = `${journal.status}: ${journal.error?.message ?? journal.verdicts.map((v) => `${v.check} ${v.status}: ${v.message}`).join('\n')}`;
      expect(journal.components.postgresProvider).toBe('testcontainers');
      expect({ status: journal.status, failed }, summary).toEqual({ status: expected.status, failed: expected.failed });
      expected.facts?.(journal);
      // Teardown removed the container: nothing on the engine carries its labels any more.
      for (const r of readResources(ledger)) {
        if (r.kind !== 'docker-container') continue;
        const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(r.labels).map(([k, v]) => `${k}=${v}`) }));
        expect(JSON.parse((await dockerRequest(r.engine, 'GET', `/containers/json?all=1&filters=${filters}`))!.body)).toEqual([]);
      }
    });
  }
});
