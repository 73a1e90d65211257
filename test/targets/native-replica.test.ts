import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import type { MonitorSample } from '../../src/engine/journal-types.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { injectPrimaryCrash } from '../../src/injectors/pg-primary-crash.js';
import { injectReplicationLag } from '../../src/injectors/pg-replication-lag.js';
import { fenceOldPrimary } from '../../src/recovery/fence-old-primary.js';
import { promoteReplica } from '../../src/recovery/promote-replica.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { ExternalDeployment } from '../../src/targets/postgres/external-deployment.js';
import { formatLsn, lsnDiff, parseLsn } from '../../src/targets/postgres/lsn.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { synchronousStandbyNames } from '../../src/targets/postgres/native-replica.js';
import { parseRecordLine, recordEnd } from '../../src/targets/postgres/wal-end.js';
import { replicationRows, standbyPosition } from '../../src/targets/postgres/replication-status.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { DatabaseRouter } from '../../src/workload/database-router.js';
import { DbMonitor } from '../../src/workload/db-monitor.js';
import { ROOT } from '../e2e/helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-replica-test-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
const db = (i: PgInstance) => ({ ...i.connection, database: 'postgres' });
const count = (i: PgInstance) => withClient(db(i), async (c) => Number((await c.query<{ n: string }>('select count(*)::text n from t')).rows[0]!.n));
const insert = (i: PgInstance, from: number, to: number) => withClient(db(i), (c) => c.query('insert into t select generate_series($1::int, $2::int)', [from, to]));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The parts of a drill context that the replica injectors and procedures use, built from real components. */
async function contextFor(deployment: NativeDeployment): Promise<DrillContext & { router: DatabaseRouter }> {
  const clock = startClock();
  const loaded = await loadScenarioFile(path.join(ROOT, 'drills/scenarios/pg-primary-failure-promotion.yaml'));
  const ctx: Pick<DrillContext, 'pg' | 'router' | 'recorder' | 'signal' | 'clock' | 'recoveredInstances'> = {
    pg: deployment,
    router: new DatabaseRouter(deployment.primary),
    recorder: new JournalRecorder(clock, 'test-replica', loaded),
    signal: new AbortController().signal,
    clock,
    recoveredInstances: [],
  };
  return ctx as unknown as DrillContext & { router: DatabaseRouter };
}

describe('LSN and WAL arithmetic', () => {
  it('parses, formats and subtracts WAL positions', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(lsnDiff('1/0', '0/FFFFFF00')).toBe(256);
    expect(lsnDiff('0/3000000', '0/3000148')).toBe(-328);
    expect(() => parseLsn('nonsense')).toThrow(/not a WAL position/);
  });

  it('finds where a record ends, skipping page headers (checked against PostgreSQL 15 crash recovery)', () => {
    // pg_waldump: "len (rec/tot): 49/ 8117 ... lsn: 0/050053D0"; crash recovery ended at 0/50073A0.
    const line = 'rmgr: XLOG        len (rec/tot):     49/  8117, tx:          0, lsn: 0/050053D0, prev 0/050053A8, desc: FPI_FOR_HINT';
    const record = parseRecordLine(line)!;
    expect(record).toEqual({ lsn: '0/050053D0', totalLength: 8117 });
    const layout = { blockSize: 8192, segmentSize: 16 * 1024 * 1024 };
    expect(formatLsn(recordEnd(parseLsn(record.lsn), record.totalLength, layout))).toBe('0/50073A0');
    // A small record inside a page: start + MAXALIGN(length).
    expect(formatLsn(recordEnd(parseLsn('0/3018C20'), 34, layout))).toBe('0/3018C48');
    // Across a segment boundary the next page has the long (40-byte) header.
    expect(formatLsn(recordEnd(parseLsn('0/2FFFFF0'), 40, layout))).toBe('0/3000040');
  });

  it('asks for any one of the synchronous replicas', () => {
    expect(synchronousStandbyNames(['replica-1', 'replica-2'])).toBe('ANY 1 ("replica-1", "replica-2")');
  });
});

describe('replicas on providers that cannot run them', () => {
  it('external: a clear EnvironmentError', async () => {
    const external = await ExternalDeployment.create(
      { runId: 'test', clock: startClock(), ledger: new ResourceLedger(undefined), url: 'postgresql://u@127.0.0.1:1/db', drillTarget: true },
      () => undefined,
    );
    expect(external.replicas).toEqual([]);
    await expect(external.createReplica('replica-1')).rejects.toMatchObject({ code: 'REPLICAS_UNSUPPORTED', kind: 'environment' });
  });
});

describe('asynchronous streaming replicas, lag, promotion and fencing (real servers)', () => {
  let deployment: NativeDeployment | undefined;
  let replica1: PgInstance;
  let replica2: PgInstance;

  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'test-replica', clock: startClock(), ledger: new ResourceLedger(ledgerFile) }, (d) => (deployment = d));
    replica1 = await deployment.createReplica('replica-1');
    replica2 = await deployment.createReplica('replica-2');
    await withClient(db(deployment.primary), (c) => c.query('create table t(id int primary key)'));
  });

  afterAll(async () => {
    await deployment?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('each replica streams the primary\'s writes, read-only, with its data directory in the resource ledger', async () => {
    const primary = deployment!.primary;
    const rows = await withClient(db(primary), replicationRows);
    expect(rows.map((r) => [r.name, r.state, r.syncState]).sort()).toEqual([
      ['replica-1', 'streaming', 'async'],
      ['replica-2', 'streaming', 'async'],
    ]);
    await insert(primary, 1, 100);
    for (const replica of [replica1, replica2]) {
      await until(`${replica.name} to have 100 rows`, async () => (await count(replica)) === 100);
      expect((await withClient(db(replica), standbyPosition)).inRecovery).toBe(true);
      await expect(insert(replica, 101, 101)).rejects.toThrow(/read-only transaction/);
    }
    const recorded = readResources(ledgerFile).flatMap((r) => (r.kind === 'pg-data-dir' ? [r.path] : []));
    expect(recorded).toEqual(expect.arrayContaining([replica1.dataDirectory?.path, replica2.dataDirectory?.path]));
  });

  it('lag is measurable: held back, the replica falls behind by bytes and seconds, and catches up on revert', async () => {
    const ctx = await contextFor(deployment!);
    const samples: MonitorSample[] = [];
    const monitor = new DbMonitor({ router: ctx.router, deployment: deployment!, clock: ctx.clock, intervalMs: 1000, record: (s) => samples.push(s) });
    const lagOf = (name: string, kind: MonitorSample['kind']) => samples.filter((s) => s.instance === name && s.kind === kind).at(-1)?.value;

    await monitor.sampleOnce();
    expect(lagOf('primary', 'connections')).toBeGreaterThanOrEqual(0);
    expect(lagOf('replica-1', 'replication-lag-bytes')).toBeLessThan(1024 * 1024);

    const handle = await injectReplicationLag(ctx, { type: 'pg-replication-lag', replica: 'replica-1', holdFor: 300 });
    expect(handle.precondition).toBe(true);
    await insert(deployment!.primary, 101, 200);
    await new Promise((r) => setTimeout(r, 1100));
    await insert(deployment!.primary, 201, 210);
    await monitor.sampleOnce();
    expect(lagOf('replica-1', 'replication-lag-bytes')).toBeGreaterThan(1000);
    expect(lagOf('replica-1', 'replication-lag-seconds')).toBeGreaterThanOrEqual(1);
    expect(lagOf('replica-2', 'replication-lag-bytes')).toBeLessThan(lagOf('replica-1', 'replication-lag-bytes')!);
    expect(await count(replica1)).toBe(100);

    await handle[Symbol.asyncDispose]();
    await until('replica-1 to catch up', async () => (await count(replica1)) === 210);
    expect((await withClient(db(deployment!.primary), replicationRows)).find((r) => r.name === 'replica-1')?.state).toBe('streaming');
  });

  it('promotion picks the replica with the most WAL; a held-back replica lacks the writes it never received', async () => {
    const ctx = await contextFor(deployment!);
    const primary = deployment!.primary;
    await until('both replicas to have 210 rows', async () => (await count(replica1)) === 210 && (await count(replica2)) === 210);
    await using _lag = await injectReplicationLag(ctx, { type: 'pg-replication-lag', replica: 'replica-1', holdFor: 100 });
    await insert(primary, 211, 260);
    await until('replica-2 to have 260 rows', async () => (await count(replica2)) === 260);

    const crash = await injectPrimaryCrash(ctx, { type: 'pg-primary-crash' });
    expect(crash.precondition).toBeUndefined();
    await expect(withClient(db(primary), (c) => c.query('select 1'))).rejects.toThrow();

    const best = await promoteReplica(ctx, { step: 'promote-replica', timeout: 60_000 });
    expect(best).toMatchObject({ replica: 'replica-2', chosenBy: 'most WAL received', walBytesLost: 0 });
    expect((best.timeline as { after: number }).after).toBeGreaterThan((best.timeline as { before: number }).before);
    expect(ctx.recoveredInstances).toEqual([replica2]);
    expect(await count(replica2)).toBe(260);
    await insert(replica2, 261, 261);

    // The lagging replica, promoted by name instead, comes up without the 50 rows it never received.
    const lagging = await promoteReplica(ctx, { step: 'promote-replica', replica: 'replica-1', timeout: 60_000 });
    expect(lagging.replica).toBe('replica-1');
    expect(await count(replica1)).toBe(210);
    expect(lagging.walBytesLost).toBeGreaterThan(50 * 30);
    expect(ctx.recorder.journal.measurements.walBytesLost).toBe(lagging.walBytesLost);
    expect(lsnDiff(lagging.oldPrimaryWalEnd as string, lagging.forkLsn as string)).toBe(lagging.walBytesLost);
  });

  it('fencing: the old primary, restarted by anyone, comes up read-only and refuses writes', async () => {
    const ctx = await contextFor(deployment!);
    const old = deployment!.primary;
    await expect(fenceOldPrimary(ctx)).rejects.toMatchObject({ code: 'FENCE_WOULD_STOP_SERVICE' });

    ctx.router.switchTo(replica2);
    const fenced = await fenceOldPrimary(ctx);
    expect(fenced).toMatchObject({ instance: 'primary', restart: 'came up in recovery (read-only)', leftStopped: true });
    expect(fenced.writeRefused).toMatch(/recovery|read-only/);
    expect(await old.isRunning()).toBe(false);

    // The fence is in the data directory, not in the step: a plain restart still cannot write.
    await old.start();
    try {
      expect((await withClient(db(old), standbyPosition)).inRecovery).toBe(true);
      await expect(insert(old, 1000, 1000)).rejects.toThrow(/read-only transaction/);
      await expect(withClient(db(old), (c) => c.query('begin read write'))).rejects.toThrow(/during recovery/);
    } finally {
      await old.stop();
    }
    expect(readFileSync(path.join(old.dataDir, 'postgresql.conf'), 'utf8')).toMatch(/primary_conninfo = ''/);
    // The new primary is unaffected.
    await insert(replica2, 262, 262);
    expect(await count(replica2)).toBe(262);
  });
});

describe('synchronous replica (real servers)', () => {
  let deployment: NativeDeployment | undefined;

  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'test-sync', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
    await deployment.createReplica('replica-1', { synchronous: true });
    // Its base backup carries the primary's synchronous_standby_names naming replica-1.
    await deployment.createReplica('replica-2', { synchronous: true });
  });

  afterAll(async () => {
    await deployment?.dispose();
  });

  it('both are synchronous standbys (any one must flush a commit), and a promoted copy would wait for none', async () => {
    const rows = await withClient(db(deployment!.primary), replicationRows);
    expect(rows.map((r) => [r.name, r.syncState]).sort()).toEqual([['replica-1', 'quorum'], ['replica-2', 'quorum']]);
    const primarySetting = await withClient(db(deployment!.primary), async (c) => (await c.query<{ s: string }>("select current_setting('synchronous_standby_names') as s")).rows[0]!.s);
    expect(primarySetting).toBe('ANY 1 ("replica-1", "replica-2")');
    for (const replica of deployment!.replicas) {
      const setting = await withClient(db(replica), async (c) => (await c.query<{ s: string }>("select current_setting('synchronous_standby_names') as s")).rows[0]!.s);
      expect(setting, replica.name).toBe('');
    }
  });

  it('refuses to hold it back: that would stop commits, not lose them', async () => {
    const ctx = await contextFor(deployment!);
    await expect(injectReplicationLag(ctx, { type: 'pg-replication-lag', holdFor: 100 })).rejects.toMatchObject({
      code: 'LAG_ON_SYNCHRONOUS_REPLICA',
    });
  });
});
