import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { databaseProcesses } from '../../src/injectors/region-processes.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { findPostgresBinaries } from '../../src/targets/postgres/binaries.js';
import { NativeInstance } from '../../src/targets/postgres/native-instance.js';
import { isPostgresPid, postgresProcessAlive } from '../../src/targets/postgres/native-process.js';
import { reapPostgresDataDir } from '../../src/targets/postgres/reap-data-dir.js';
import { serverPids } from '../../src/targets/postgres/server-signals.js';
import { standbyPosition } from '../../src/targets/postgres/replication-status.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { databasePlacement } from '../../src/targets/regions/database-placement.js';
import { regionDatabaseAddress } from '../../src/targets/regions/region-layout.js';

const regions = { primary: { range: '127.0.1.0/24' }, dr: { range: '127.0.2.0/24' } };

describe('where the regions\' databases live', () => {
  it('puts the primary in the primary region, every replica in the DR region, anything else on 127.0.0.1', () => {
    const place = databasePlacement(regions);
    expect(regionDatabaseAddress('127.0.7.0/24')).toBe('127.0.7.40');
    expect(place('primary')).toBe('127.0.1.40');
    expect(place('replica-1')).toBe('127.0.2.40');
    expect(place('pitr-1')).toBeUndefined();
    expect(place('replica-x')).toBeUndefined();
  });
});

/** Whether a TCP connection to host:port is accepted now. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('a primary and its replica placed in two regions (real PostgreSQL)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-region-db-test-'));
  const ledgerFile = path.join(tmp, 'resources.jsonl');
  const ledger = new ResourceLedger(ledgerFile);
  let deployment: NativeDeployment | undefined;
  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'region-db-test', clock: startClock(), ledger, placement: databasePlacement(regions) }, (d) => (deployment = d));
    await deployment.createReplica('replica-1');
  }, 120_000);
  afterAll(async () => {
    await deployment?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('each listens on its region\'s database address only, and the replica streams across', async () => {
    const { primary, replicas } = deployment!;
    const replica = replicas[0]!;
    expect(primary.connection.host).toBe('127.0.1.40');
    expect(replica.connection.host).toBe('127.0.2.40');
    expect(await accepts('127.0.1.40', primary.connection.port)).toBe(true);
    expect(await accepts('127.0.0.1', primary.connection.port)).toBe(false);
    expect(await accepts('127.0.2.40', replica.connection.port)).toBe(true);
    expect(await accepts('127.0.0.1', replica.connection.port)).toBe(false);
    await withClient(primary.connection, (c) => c.query('create table t as select generate_series(1, 100) x'));
    const position = await withClient(replica.connection, standbyPosition);
    expect(position.inRecovery).toBe(true);
    const rows = async () => withClient(replica.connection, async (c) => (await c.query<{ n: number }>('select count(*)::int n from t')).rows[0]!.n).catch(() => 0);
    const deadline = Date.now() + 30_000;
    while ((await rows()) !== 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await rows()).toBe(100);
  });

  it('the DR region keeps its own WAL archive while it is a standby (archive_mode always)', async () => {
    const { primary, replicas } = deployment!;
    const replica = replicas[0]!;
    await withClient(primary.connection, (c) => c.query('select pg_switch_wal()'));
    const archive = path.join(path.dirname(path.dirname(replica.dataDir)), 'archive', replica.name);
    const segments = () => (existsSync(archive) ? readdirSync(archive).filter((f) => /^[0-9A-F]{24}$/.test(f)) : []);
    const deadline = Date.now() + 30_000;
    while (segments().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(segments().length).toBeGreaterThan(0);
    expect(await withClient(replica.connection, async (c) => (await c.query<{ archive_mode: string }>('show archive_mode')).rows[0]!.archive_mode)).toBe('always');
  });

  it('a stale postmaster.pid naming another server\'s postmaster (a PostgreSQL process working elsewhere): not this server\'s', () => {
    const { primary } = deployment!;
    const dataDir = path.join(tmp, 'crashed-data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'postmaster.pid'), `${primary.postmasterPid()}\n${dataDir}\n`);
    const crashed = new NativeInstance({ name: 'crashed', dataDir, socketDir: tmp, logFile: path.join(tmp, 'crashed.log'), port: 1, password: 'unused', binaries: findPostgresBinaries(), runAs: undefined });
    expect(isPostgresPid(primary.postmasterPid()!)).toBe(true);
    expect(serverPids(crashed)).toEqual([]);
    // Positive control: the primary's own, postmaster first.
    expect(serverPids(primary)[0]).toBe(primary.postmasterPid());
  });

  it('a server frozen with SIGSTOP (region-outage blackhole) is still reaped after a kill -9 of the drill', async () => {
    const replica = deployment!.replicas[0]!;
    const pids = serverPids(replica);
    expect(pids.length).toBeGreaterThan(1);
    expect(pids[0]).toBe(replica.postmasterPid());
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    // The ledger's own entry, as a reaper after a kill -9 finds it (with the user PostgreSQL runs as).
    const entry = readResources(ledgerFile).find((r): r is Extract<typeof r, { kind: 'pg-data-dir' }> => r.kind === 'pg-data-dir' && r.path === replica.dataDir)!;
    expect(entry).toBeDefined();
    const shutdowns = () => readFileSync(replica.logFile, 'utf8').split('received immediate shutdown request').length - 1;
    const before = shutdowns();
    const outcome = await reapPostgresDataDir(entry);
    expect(outcome).toMatchObject({ state: 'removed' });
    // The reaper continued the server before pg_ctl signalled it: the postmaster handled pg_ctl's
    // SIGQUIT and logged it. A server left stopped only dies of the SIGKILL after pg_ctl's
    // 20 s timeout, without that line.
    expect(shutdowns()).toBe(before + 1);
    expect(await replica.isRunning()).toBe(false);
    // Gone or a zombie awaiting its parent: no PostgreSQL process of it runs.
    expect(pids.filter(postgresProcessAlive)).toEqual([]);
  }, 60_000);

  it('a server whose postmaster is dead: its orphaned processes are named backends, none the postmaster', async () => {
    const { primary } = deployment!;
    const postmaster = primary.postmasterPid()!;
    const orphans = serverPids(primary).filter((pid) => pid !== postmaster);
    expect(orphans.length).toBeGreaterThan(0);
    // Stopped, they cannot notice the postmaster's death and exit: they stay, as after a crash.
    for (const pid of orphans) process.kill(pid, 'SIGSTOP');
    try {
      process.kill(postmaster, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (postgresProcessAlive(postmaster) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const listed = databaseProcesses(primary);
      expect(listed.map((p) => p.pid).sort()).toEqual([...orphans].sort());
      expect(new Set(listed.map((p) => p.name))).toEqual(new Set(['primary backend']));
    } finally {
      for (const pid of orphans) {
        for (const signal of ['SIGKILL', 'SIGCONT'] as const) {
          try {
            process.kill(pid, signal);
          } catch {
            /* already gone */
          }
        }
      }
    }
  });
});
