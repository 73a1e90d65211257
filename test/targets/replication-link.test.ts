import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { injectNetworkFault } from '../../src/injectors/network-fault.js';
import { injectReplicationLag } from '../../src/injectors/pg-replication-lag.js';
import { awaitCaughtUp } from '../../src/recovery/await-caught-up.js';
import { removeNetworkFault } from '../../src/recovery/remove-network-fault.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { startReplicationLink } from '../../src/targets/network-proxy/replication-link.js';
import type { ToxiproxyLink } from '../../src/targets/network-proxy/toxiproxy-link.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { replicaLag } from '../../src/targets/postgres/replica-lag.js';
import { replicationRows } from '../../src/targets/postgres/replication-status.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { DatabaseRouter } from '../../src/workload/database-router.js';
import { ROOT } from '../e2e/helpers.js';

// A real Toxiproxy between a real primary and its real streaming replica (native provider): the
// replica is built streaming through the proxy, the network faults break that link, and the paths
// that rewrite primary_conninfo (pg-replication-lag's RESET) keep it going through the proxy.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-replication-link-test-'));
const db = (i: PgInstance) => ({ ...i.connection, database: 'postgres' });
const insert = (i: PgInstance, from: number, to: number) => withClient(db(i), (c) => c.query('insert into t select generate_series($1::int, $2::int)', [from, to]));
const conninfo = (i: PgInstance) =>
  withClient(db(i), async (c) => (await c.query<{ v: string }>("select setting as v from pg_settings where name = 'primary_conninfo'")).rows[0]!.v);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let deployment: NativeDeployment | undefined;
let link: ToxiproxyLink;
let replica: PgInstance;
const teardown = new TeardownStack();

async function contextFor(): Promise<DrillContext> {
  const clock = startClock();
  const loaded = await loadScenarioFile(path.join(ROOT, 'drills/scenarios/net-replica-link-loss.yaml'));
  const ctx: Pick<DrillContext, 'pg' | 'router' | 'recorder' | 'signal' | 'clock' | 'recoveredInstances'> = {
    pg: deployment!,
    router: new DatabaseRouter(deployment!.primary),
    recorder: new JournalRecorder(clock, 'test-replication-link', loaded),
    signal: new AbortController().signal,
    clock,
    recoveredInstances: [],
  };
  return ctx as unknown as DrillContext;
}

beforeAll(async () => {
  const ledger = new ResourceLedger(path.join(tmp, 'resources.jsonl'));
  deployment = await NativeDeployment.create({ runId: 'test-replication-link', clock: startClock(), ledger }, (d) => (deployment = d));
  link = await startReplicationLink(deployment.primary, { ledger, teardown, runId: 'test-replication-link' });
  (deployment as NativeDeployment & { replicationLink?: ToxiproxyLink }).replicationLink = link;
  replica = await deployment.createReplica('replica-1', { upstream: link.listen });
  await withClient(db(deployment.primary), (c) => c.query('create table t(id int primary key)'));
}, 120_000);

afterAll(async () => {
  await deployment?.dispose();
  await teardown.runAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the replication link through a real Toxiproxy (real primary and replica)', () => {
  it('the replica streams through the proxy from the start: its primary_conninfo names the proxy, in postgresql.conf', async () => {
    expect(await conninfo(replica)).toMatch(new RegExp(`host=127\\.0\\.0\\.1 port=${link.listen.port} `));
    // In postgresql.conf (what ALTER SYSTEM RESET falls back to), not postgresql.auto.conf.
    expect(readFileSync(path.join(replica.dataDirectory!.path, 'postgresql.auto.conf'), 'utf8')).not.toMatch(/primary_conninfo/);
    const rows = await withClient(db(deployment!.primary), replicationRows);
    expect(rows.map((r) => [r.name, r.state])).toEqual([['replica-1', 'streaming']]);
  });

  it('network-reset on it: the replica falls behind while the primary writes; healed, it catches up (lag back to 0)', { timeout: 60_000 }, async () => {
    const ctx = await contextFor();
    await insert(deployment!.primary, 1, 100);
    await until('the replica to have the first rows', async () => (await replicaLag(deployment!.primary, replica)).replayBytesBehind === 0);
    const handle = await injectNetworkFault(ctx, { type: 'network-reset', link: 'replication' });
    expect(handle.precondition).toBeUndefined();
    expect(handle.details).toMatchObject({ on: 'replication', type: 'reset_peer', stream: 'downstream' });
    for (let i = 0; i < 5; i++) {
      await insert(deployment!.primary, 1000 * (i + 1), 1000 * (i + 1) + 50);
      await new Promise((r) => setTimeout(r, 200));
    }
    const behind = await replicaLag(deployment!.primary, replica);
    expect(behind.receiveBytesBehind).toBeGreaterThan(1000);
    // Negative control of the heal's postcondition: while the link is still broken the replica cannot catch up.
    await expect(awaitCaughtUp(ctx, 1_500)).rejects.toMatchObject({ code: 'REPLICA_NOT_CAUGHT_UP', message: expect.stringMatching(/replica-1 replayed up to .* short of/) });
    expect((await withClient(db(deployment!.primary), replicationRows)).some((r) => r.state === 'streaming')).toBe(false);

    const output = await removeNetworkFault(ctx, { step: 'remove-network-fault', link: 'replication', timeout: 30_000 } as Parameters<typeof removeNetworkFault>[1]);
    expect(output).toMatchObject({ on: 'replication', removed: ['reset-1'] });
    const [caught] = output.catchUp as Array<{ bytesBehindAtHeal: number; caughtUpMs: number }>;
    expect(caught!.bytesBehindAtHeal).toBeGreaterThan(1000);
    expect((await replicaLag(deployment!.primary, replica)).replayBytesBehind).toBe(0);
    expect(ctx.recorder.journal.measurements.replicationLagMaxBytes).toBeGreaterThan(1000);
    expect(ctx.recorder.journal.events.some((e) => e.kind === 'replication-lag')).toBe(true);
    await handle[Symbol.asyncDispose]();
  });

  it('holdFor: the fault holds, proves the lag grew, and is a precondition', { timeout: 60_000 }, async () => {
    const ctx = await contextFor();
    let n = 20_000;
    const writer = setInterval(() => void insert(deployment!.primary, n, (n += 10) - 1).catch(() => undefined), 100);
    try {
      await using handle = await injectNetworkFault(ctx, { type: 'network-timeout', link: 'replication', holdFor: 1500 });
      expect(handle.precondition).toBe(true);
      const [lag] = (handle.details as { lagAtEndOfHold: Array<{ receiveBytesBehind: number }> }).lagAtEndOfHold;
      expect(lag!.receiveBytesBehind).toBeGreaterThan(0);
    } finally {
      clearInterval(writer);
    }
  });

  it('holdFor with nothing written: the hold cannot be proven, an environment error (the fault is undone)', { timeout: 60_000 }, async () => {
    const ctx = await contextFor();
    await until('the replica to catch up', async () => (await replicaLag(deployment!.primary, replica)).replayBytesBehind === 0, 60_000);
    await expect(injectNetworkFault(ctx, { type: 'network-reset', link: 'replication', holdFor: 600 })).rejects.toMatchObject({
      code: 'REPLICATION_LINK_NOT_BROKEN',
      message: expect.stringMatching(/the primary wrote no WAL in the second half of the hold/),
    });
    expect(await link.degradations()).toEqual([]);
  });

  it('pg-replication-lag: its ALTER SYSTEM RESET brings back the proxied primary_conninfo, and its check refuses one that bypasses the proxy', { timeout: 60_000 }, async () => {
    const ctx = await contextFor();
    const lag = await injectReplicationLag(ctx, { type: 'pg-replication-lag', holdFor: 200 });
    expect(await conninfo(replica)).toBe('');
    await lag[Symbol.asyncDispose]();
    expect(await conninfo(replica)).toMatch(new RegExp(`port=${link.listen.port} `));
    await until('the replica to stream through the proxy again', async () =>
      (await withClient(db(deployment!.primary), replicationRows)).some((r) => r.name === 'replica-1' && r.state === 'streaming'),
    );

    // The negative control of the check: a link the conninfo does not name is reported, not passed over.
    const elsewhere = { listen: { host: '127.0.0.1', port: 1 }, description: 'another proxy' };
    const other = { ...ctx, pg: Object.assign(Object.create(deployment!) as NativeDeployment, { replicationLink: elsewhere }) } as unknown as DrillContext;
    const held = await injectReplicationLag(other, { type: 'pg-replication-lag', holdFor: 200 });
    await expect(held[Symbol.asyncDispose]()).rejects.toMatchObject({ code: 'REPLICATION_LINK_BYPASSED' });
  });
});
