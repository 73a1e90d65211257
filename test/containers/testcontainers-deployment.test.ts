import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { reapRecorded, reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { checkChecksumsOffline } from '../../src/recovery/offline-checksums.js';
import { Redactor } from '../../src/report/redactor.js';
import { dockerRequest } from '../../src/targets/docker/docker-api.js';
import { dockerHost } from '../../src/targets/docker/docker-host.js';
import { fenceAsStandby } from '../../src/targets/postgres/fence.js';
import { lsnDiff } from '../../src/targets/postgres/lsn.js';
import { standbyPosition } from '../../src/targets/postgres/replication-status.js';
import { createRestorePoint } from '../../src/targets/postgres/restore-point.js';
import type { TestcontainersDeployment } from '../../src/targets/postgres/testcontainers-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { walEndOf } from '../../src/targets/postgres/wal-end.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { engine, IMAGE, SKIP } from './engine.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-tc-test-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
let pg: TestcontainersDeployment | undefined;
/** The run's Redactor of the deployment in beforeAll: the generated password must be registered with it. */
const secrets = new Redactor();

const db = (i: PgInstance) => ({ ...i.connection, database: 'postgres' });
const query = <T extends Record<string, unknown>>(i: PgInstance, text: string) => withClient(db(i), async (c) => (await c.query<T>(text)).rows);
const count = async (i: PgInstance) => Number((await query<{ n: string }>(i, 'select count(*)::text n from t'))[0]!.n);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The containers on the engine carrying these labels, as the engine lists them. */
async function containersLabelled(labels: Record<string, string>): Promise<Array<{ Id: string; State: string }>> {
  const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }));
  const response = await dockerRequest(dockerHost(), 'GET', `/containers/json?all=1&filters=${filters}`);
  return JSON.parse(response!.body) as Array<{ Id: string; State: string }>;
}

function ledgerLabels(file: string): Record<string, string> {
  const entry = readResources(file).find((r) => r.kind === 'docker-container');
  if (entry?.kind !== 'docker-container') throw new Error(`no docker-container entry in ${file}`);
  return entry.labels;
}

/** What runs in the container with its working directory in `pgdata`: a server's processes. */
function processesIn(containerId: string, pgdata: string): string[] {
  const script = 'for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = "$1" ] && echo "${p#/proc/} $(sed "s/.*) //" "$p/stat" | cut -d" " -f1)"; done; true';
  return execFileSync('docker', ['exec', '-u', 'postgres', containerId, 'sh', '-c', script, 'x', pgdata], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line && !line.endsWith(' Z'));
}

async function create(runId: string, ledger: string, redactor = new Redactor()): Promise<TestcontainersDeployment> {
  const { TestcontainersDeployment } = await import('../../src/targets/postgres/testcontainers-deployment.js');
  let created: TestcontainersDeployment | undefined;
  try {
    return await TestcontainersDeployment.create(
      { runId, clock: startClock(), ledger: new ResourceLedger(ledger), image: IMAGE, secrets: redactor },
      (d) => (created = d),
    );
  } catch (error) {
    await created?.dispose();
    throw error;
  }
}

beforeAll(async () => {
  if (engine) pg = await create('test-tc', ledgerFile, secrets);
});

afterAll(async () => {
  await pg?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!engine)(`testcontainers PostgreSQL deployment (real container)${SKIP}`, () => {
  it('starts a primary with checksums and archiving, recorded in the ledger by labels only it carries', async () => {
    const settings = (await query<{ name: string; setting: string }>(
      pg!.primary,
      "select name, setting from pg_settings where name in ('data_checksums', 'archive_mode', 'wal_level') order by name",
    )).map((r) => `${r.name}=${r.setting}`);
    expect(settings).toEqual(['archive_mode=on', 'data_checksums=on', 'wal_level=replica']);
    const entry = readResources(ledgerFile);
    expect(entry).toEqual([{ kind: 'docker-container', engine: dockerHost(), labels: { 'drill.deployment': expect.stringMatching(/^[0-9a-f-]{36}$/) } }]);
    expect(await containersLabelled(ledgerLabels(ledgerFile))).toHaveLength(1);
    expect(pg!.primary.dataDirectory.location).toMatch(/^\/var\/lib\/postgresql\/data in container [0-9a-f]{12}$/);
  });

  it('registers the generated password with the run\'s Redactor before anything can print it', () => {
    const password = pg!.primary.connection.password!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(secrets.redact(`postgres password ${password}`)).toBe('postgres password [REDACTED]');
    // Negative control: a Redactor the deployment was not given knows nothing of it.
    expect(new Redactor().redact(`postgres password ${password}`)).toBe(`postgres password ${password}`);
  });

  it('backs up, verifies, restores to a named point with the archive in the container, and survives a kill', async () => {
    await withClient(db(pg!.primary), (c) => c.query('create table t(id int primary key); insert into t select generate_series(1, 100)'));
    const backup = await pg!.takeBaseBackup(pg!.primary);
    expect((await pg!.verifyBackup(backup)).ok).toBe(true);
    await withClient(db(pg!.primary), (c) => c.query('insert into t select generate_series(101, 150)'));
    await createRestorePoint(db(pg!.primary), 'tc-point');
    await withClient(db(pg!.primary), (c) => c.query('insert into t select generate_series(151, 200); select pg_switch_wal()'));

    const restored = await pg!.restore(backup, 'at-point', { kind: 'name', name: 'tc-point' });
    await until(`${restored.name} to leave recovery`, async () => !(await query<{ r: boolean }>(restored, 'select pg_is_in_recovery() r'))[0]!.r);
    expect(await count(restored)).toBe(150);
    // A restored server archives like the primary (its own directory), so it can be backed up and restored in turn.
    expect((await query<{ archive_mode: string }>(restored, 'show archive_mode'))[0]!.archive_mode).toBe('on');

    await pg!.primary.kill();
    expect(await pg!.primary.isRunning()).toBe(false);
    await pg!.primary.start();
    expect(await count(pg!.primary)).toBe(200);
  });

  it('reaches the data directory through the engine: a flipped block fails reads and pg_checksums names it; put back, both pass', async () => {
    const primary = pg!.primary;
    const file = (await query<{ f: string }>(primary, "select pg_relation_filepath('t') f"))[0]!.f;
    await primary.stop();
    const original = await primary.dataDirectory.readBlock(file, 0);
    expect(original).toHaveLength(8192);
    expect(await primary.dataDirectory.readBlock(file, 10_000)).toBeUndefined();
    expect(await primary.dataDirectory.readBlock('no/such/file', 0)).toBeUndefined();
    const damaged = Buffer.from(original!);
    for (let i = 8000; i < 8032; i++) damaged[i] = damaged[i]! ^ 0xff;
    await primary.dataDirectory.writeBlock(file, 0, damaged);
    expect(await primary.dataDirectory.readBlock(file, 0)).toEqual(damaged);

    const offline = await checkChecksumsOffline(primary);
    expect(offline).toMatchObject({ checked: true, badBlocks: [{ file, block: 0 }] });
    await primary.start();
    await expect(count(primary)).rejects.toThrow(/invalid page in block 0/);

    await primary.stop();
    await primary.dataDirectory.writeBlock(file, 0, original!);
    expect(await checkChecksumsOffline(primary)).toMatchObject({ checked: true, badBlocks: [] });
    await primary.start();
    expect(await count(primary)).toBe(200);
  });

  it('moves a file aside and back through the engine', async () => {
    const primary = pg!.primary;
    const file = (await query<{ f: string }>(primary, "select pg_relation_filepath('t') f"))[0]!.f;
    await primary.stop();
    const aside = await primary.dataDirectory.moveAside(file);
    expect(aside).toMatch(/\/drill-removed-files\/base_\d+_\d+$/);
    expect(await primary.dataDirectory.exists(file)).toBe(false);
    expect(await primary.dataDirectory.list(path.posix.dirname(file))).not.toContain(path.posix.basename(file));
    expect(await primary.dataDirectory.putBack(file, aside)).toBe(true);
    expect(await primary.dataDirectory.putBack(file, aside)).toBe(false);
    await primary.start();
    expect(await count(primary)).toBe(200);
  });

  it('runs a synchronous streaming replica in the container; a crash leaves no process of the primary, its WAL end is read offline, and a fenced restart refuses writes', async () => {
    const primary = pg!.primary;
    const replica = await pg!.createReplica('replica-1', { synchronous: true });
    expect(pg!.replicas.map((r) => r.name)).toEqual(['replica-1']);
    const rows = await query<{ application_name: string; state: string; sync_state: string }>(primary, 'select application_name, state, sync_state from pg_stat_replication');
    expect(rows).toEqual([{ application_name: 'replica-1', state: 'streaming', sync_state: 'quorum' }]);
    await withClient(db(primary), (c) => c.query('insert into t select generate_series(201, 300)'));
    // Synchronous: every acknowledged commit is on the replica before the crash.
    const received = (await withClient(db(replica), standbyPosition)).receiveLsn!;

    const [container] = await containersLabelled(ledgerLabels(ledgerFile));
    expect(processesIn(container!.Id, '/var/lib/postgresql/data').length).toBeGreaterThan(3);
    await primary.kill();
    expect(processesIn(container!.Id, '/var/lib/postgresql/data')).toEqual([]);
    expect(await primary.isRunning()).toBe(false);

    const end = await walEndOf(primary.dataDirectory, received);
    expect(end?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(lsnDiff(end!.lsn, received)).toBeGreaterThanOrEqual(0);

    expect((await query<{ ok: boolean }>(replica, 'select pg_promote(true, 60) ok'))[0]!.ok).toBe(true);
    expect(await count(replica)).toBe(300);

    await fenceAsStandby(primary.dataDirectory, primary.name);
    await primary.start();
    expect((await withClient(db(primary), standbyPosition)).inRecovery).toBe(true);
    await expect(withClient(db(primary), (c) => c.query('insert into t values (999)'))).rejects.toThrow(/read-only transaction/);
    await primary.stop();
  });

  it('the reaper removes a deployment whose drill died, by its ledger entry, and nothing else', async () => {
    const orphanLedger = path.join(tmp, 'orphan.jsonl');
    const orphan = await create('test-tc-orphan', orphanLedger);
    expect(await count(orphan.primary).catch((e: Error) => e.message)).toMatch(/relation "t" does not exist/);
    // The drill "died": no dispose. Its ledger is all that is left.
    const reaped = await reapResources(orphanLedger);
    expect(reaped).toEqual([expect.stringMatching(/^container \S+$/)]);
    expect(await containersLabelled(ledgerLabels(orphanLedger))).toEqual([]);
    // The other deployment, with other labels, is untouched.
    expect(await containersLabelled(ledgerLabels(ledgerFile))).toHaveLength(1);
    expect(await count(pg!.replicas[0]!)).toBe(300);
    // Run again: nothing left to do.
    expect(await reapResources(orphanLedger)).toEqual([]);
  });

  it('the reaper reports an entry whose engine does not answer as left, with what to do (its run ledger is kept)', async () => {
    const gone = { kind: 'docker-container' as const, engine: `unix://${tmp}/no-such.sock`, labels: { 'drill.deployment': 'x' } };
    const report = await reapRecorded([gone]);
    expect(report.removed).toEqual([]);
    expect(report.left).toEqual([{ what: `containers labelled drill.deployment=x on ${gone.engine}`, reason: expect.stringMatching(/does not answer; start it/) }]);
    // Negative control: the same labels on the engine that answers are simply gone (nothing left to remove).
    expect(await reapRecorded([{ ...gone, engine: dockerHost() }])).toEqual({ removed: [], left: [] });
  });
});
