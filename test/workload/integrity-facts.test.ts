import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessIntegrity } from '../../src/assertions/index.js';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { injectPageCorruption } from '../../src/injectors/pg-page-corruption.js';
import { ProbeGate } from '../../src/workload/probes/probe-gate.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { createDataset, tableFacts } from '../../src/workload/dataset.js';
import { DatabaseRouter } from '../../src/workload/database-router.js';
import { collectIntegrityFacts } from '../../src/workload/integrity-facts.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';

const clock = startClock();
let deployment: NativeDeployment | undefined;
let router: DatabaseRouter;

beforeAll(async () => {
  deployment = await NativeDeployment.create({ runId: 'test-integrity', clock, ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
  await createDataset(deployment.primary.connection, { accounts: 50, transfers: 3000 });
  router = new DatabaseRouter(deployment.primary);
});
afterAll(async () => {
  await deployment?.dispose();
});

describe('integrity facts from a real database', () => {
  it('a healthy data set: no findings, every foreign key holds', async () => {
    const facts = await collectIntegrityFacts(router.connection, 'primary', clock.stamp);
    expect(facts.errors).toEqual([]);
    expect(facts.amcheck).toEqual([]);
    expect(facts.pageChecksumFailures).toBe(0);
    expect(facts.foreignKeys.map((f) => f.violations)).toEqual([0, 0]);
    expect(facts.tables.transfers!.rows).toBe(3000);
  });

  it('facts cover the seeded rows only: rows the workload writes (ids from 1e9) leave them unchanged, a changed seed row does not', async () => {
    const before = await tableFacts(router.connection);
    expect(before.accounts!.rows).toBe(50); // the drill's own accounts (ids from 1e9) are not counted
    await withClient(router.connection, (c) =>
      c.query("insert into transfers (id, from_account, to_account, amount, created_at, reference) values (1000000099, 1000000001, 1000000002, 0.42, now(), 'canary-1-99')"),
    );
    expect(await tableFacts(router.connection)).toEqual(before);
    await withClient(router.connection, (c) => c.query('update transfers set amount = amount + 1 where id = 7'));
    const changed = await tableFacts(router.connection);
    expect(changed.transfers!.rows).toBe(before.transfers!.rows);
    expect(changed.transfers!.checksum).not.toBe(before.transfers!.checksum);
    await withClient(router.connection, (c) => c.query("update transfers set amount = amount - 1 where id = 7; delete from transfers where id = 1000000099"));
    expect(await tableFacts(router.connection)).toEqual(before);
  });

  it('finds a foreign key violation the constraint no longer prevents', async () => {
    await withClient(router.connection, (c) =>
      c.query("set session_replication_role = replica; delete from accounts where id = 1; set session_replication_role = origin"),
    );
    const facts = await collectIntegrityFacts(router.connection, 'primary', clock.stamp);
    expect(facts.foreignKeys.some((f) => f.violations > 0)).toBe(true);
    await withClient(router.connection, (c) => c.query("insert into accounts values (1, 'owner-1', 100)"));
  });

  it('page corruption: amcheck names the damaged blocks, checksum failures are counted, the assertion fails', async () => {
    const loaded = await loadScenarioFile('drills/scenarios/db-corruption-pitr.yaml');
    const snapshot = await tableFacts(router.connection);
    const recorder = new JournalRecorder(clock, 'test', loaded);
    const ctx = { pg: deployment!, router, clock, recorder, restorePoints: new Map(), probeGate: new ProbeGate() } as unknown as DrillContext;
    const handle = await injectPageCorruption(ctx, { type: 'pg-page-corruption', table: 'transfers', blocks: [1, 2] });
    const facts = await collectIntegrityFacts(router.connection, 'primary', clock.stamp);
    const heap = facts.amcheck.filter((f) => f.relation === 'transfers' && f.kind === 'heap');
    expect(heap.map((f) => f.block)).toEqual([1, 2]);
    expect(facts.pageChecksumFailures).toBeGreaterThan(0);

    const journal: Journal = { ...recorder.journal, integrity: facts, snapshot: { takenAt: clock.stamp(), instance: 'primary', label: 'test', tables: snapshot } };
    const verdict = assessIntegrity(journal).verdict;
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/amcheck/);

    await deployment!.primary.stop();
    await handle[Symbol.asyncDispose]();
    await deployment!.primary.start();
    const repaired = await collectIntegrityFacts(router.connection, 'primary', clock.stamp);
    expect(repaired.amcheck).toEqual([]);
  });
});
