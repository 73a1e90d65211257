import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format } from 'node:util';
import createDebug from 'debug';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { startClock } from '../../src/engine/clock.js';
import type { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionPostgres } from '../../src/targets/postgres/provision-postgres.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { ExternalDeployment } from '../../src/targets/postgres/external-deployment.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { WORKLOAD_ID_FLOOR } from '../../src/workload/workload-accounts.js';

// The "external" server is a real local PostgreSQL; the harness reaches it only through its URL.
const SECRET = 'S3cret-pa55word';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-external-test-'));
const ledgers: string[] = [];
const externals: ExternalDeployment[] = [];
let source: NativeDeployment | undefined;
let url: string;

const ledger = () => {
  ledgers.push(path.join(tmp, `resources-${ledgers.length}.jsonl`));
  return new ResourceLedger(ledgers.at(-1));
};
const external = (drillTarget: boolean, at = url) =>
  ExternalDeployment.create({ runId: 'test-external', clock: startClock(), ledger: ledger(), url: at, drillTarget }, (d) => externals.push(d));
const count = (i: PgInstance, table = 'orders') =>
  withClient(i.connection, async (c) => Number((await c.query<{ n: string }>(`select count(*)::text n from ${table}`)).rows[0]!.n));

beforeAll(async () => {
  source = await NativeDeployment.create({ runId: 'test-external-src', clock: startClock(), ledger: ledger() }, (d) => (source = d));
  const { port } = source.primary.connection;
  // The external server's own administrator, with its own password (the native one has the drill's).
  url = `postgres://ext_admin:${SECRET}@127.0.0.1:${port}/postgres`;
  await withClient(source.primary.connection, async (c) => {
    await c.query(
      `create role ext_admin login superuser replication password '${SECRET}'; ` +
        "create table orders(id int primary key, note text); insert into orders select g, 'o' || g from generate_series(1, 300) g",
    );
    // The server's own record of what it was asked, to prove what the harness sent (and did not).
    await c.query("alter system set log_statement = 'all'");
    await c.query('alter system set log_replication_commands = on');
    await c.query('select pg_reload_conf()');
  });
});

/** The operator's one-time marker (README, "External PostgreSQL"), set or removed. */
const mark = (on: boolean) =>
  withClient(source!.primary.connection, (c) => c.query(on ? "alter database postgres set drill.target = 'true'" : 'alter database postgres reset drill.target'));

/** Statements and replication commands the server logged from byte `from` of its log on. */
function serverStatementsSince(from: number): string[] {
  const log = readFileSync(source!.primary.logFile).subarray(from).toString('utf8');
  // A statement's further lines follow its log line, each starting with a tab.
  return [...log.matchAll(/LOG: {2}(?:statement: |execute [^:]*: |received replication command: )(.*(?:\n\t.*)*)/g)].map((m) => m[1]!.replace(/\s+/g, ' ').trim());
}
const logSize = () => statSync(source!.primary.logFile).size;

afterAll(async () => {
  try {
    for (const d of externals) await d.dispose();
    await source?.dispose();
    const processes = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
    const resources = ledgers.flatMap((file) => readResources(file));
    expect(resources.filter((r) => r.kind === 'pg-data-dir').length).toBeGreaterThan(0);
    for (const r of resources) {
      if (r.kind === 'temp-dir') expect(existsSync(r.path), `${r.path} left behind`).toBe(false);
      else if (r.kind === 'pg-data-dir') expect(processes, `postgres left running on ${r.path}`).not.toContain(r.path);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

describe('external PostgreSQL deployment (a real local server behind a URL)', () => {
  it('refuses to stop, start or kill a server not marked as a drill target, and touches nothing', async () => {
    const pid = source!.primary.postmasterPid();
    const ext = await external(false);
    expect(ext.drillTarget).toBe(false);
    expect(ext.primary.dataDirectory).toBeUndefined();
    for (const op of ['stop', 'start', 'kill'] as const) {
      await expect(ext.primary[op]()).rejects.toMatchObject({ name: 'InputError', code: 'NOT_A_DRILL_TARGET', kind: 'input' });
    }
    expect(source!.primary.postmasterPid()).toBe(pid);
    expect(await ext.primary.isRunning()).toBe(true);
    expect(readResources(ledgers.at(-1)!)).toEqual([]);
    await expect((await external(true)).primary.kill()).rejects.toMatchObject({ code: 'EXTERNAL_NOT_CONTROLLABLE', kind: 'environment' });
    expect(source!.primary.postmasterPid()).toBe(pid);
  });

  it('refuses a server without the drill-target marker even with drillTarget: true, having written nothing', async () => {
    await mark(false);
    const from = logSize();
    const teardown = new TeardownStack();
    const scenario = await scenarioFor({ provider: 'external', url, drillTarget: true });
    const error = await provisionPostgres(scenario.targets.postgres!, provisionOptions(teardown)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InputError', code: 'NOT_A_DRILL_TARGET', kind: 'input' });
    expect(exitCodeForError(error)).toBe(2);
    // The URL's own user, without its password, is who can set the marker.
    expect((error as Error).message).toContain(`psql "postgres://ext_admin@127.0.0.1:${source!.primary.connection.port}/postgres" -c "ALTER DATABASE postgres SET drill.target = 'true'"`);
    expect((error as Error).message).toMatch(/Nothing was touched\.$/);
    expect((error as Error).message).not.toContain(SECRET);
    expect(await teardown.runAll()).toEqual([]);
    // Nor does a base backup of the whole server start without it.
    const ext = await external(true);
    await expect(ext.takeBaseBackup()).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET' });
    expect(ext.drillTarget).toBe(false);
    expect(ext.listBackups()).toEqual([]);
    expect(readResources(ledgers.at(-1)!)).toEqual([]);

    // What the server was asked: the marker look-ups (reads in read-only transactions), nothing else.
    expect(await databases()).not.toContain('drill');
    const statements = serverStatementsSince(from);
    expect(statements.filter((q) => q.includes('pg_db_role_setting'))).toHaveLength(2);
    for (const q of statements) expect(q).toMatch(/^(begin transaction read only|select |rollback)/i);
    expect(statements.join('\n')).not.toMatch(/BASE_BACKUP|create |drop |insert |update |delete |alter /i);
  });

  it('takes only the database-wide setting as the marker, not one a role or a session carries', async () => {
    await mark(false);
    // A role's setting reaches every session of that role, as a client's PGOPTIONS reaches its own:
    // neither says anything about the server.
    await withClient(source!.primary.connection, (c) => c.query("alter role postgres set drill.target = 'true'"));
    try {
      await expect((await external(true)).confirmDrillTarget()).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET' });
    } finally {
      await withClient(source!.primary.connection, (c) => c.query('alter role postgres reset drill.target'));
    }
    await mark(true);
    const marked = await external(true);
    await expect(marked.confirmDrillTarget()).resolves.toBeUndefined();
    expect(marked.drillTarget).toBe(true);
    expect((await external(false)).drillTarget).toBe(false);
  });

  it('provisioning refuses an external server not marked as a drill target before connecting to it', async () => {
    const teardown = new TeardownStack();
    const scenario = await scenarioFor({ provider: 'external', url, drillTarget: false });
    await expect(provisionPostgres(scenario.targets.postgres!, provisionOptions(teardown))).rejects.toMatchObject({
      code: 'NOT_A_DRILL_TARGET',
      kind: 'input',
      message: expect.not.stringContaining(SECRET),
    });
    expect(teardown.size).toBe(0);
    expect(await databases()).not.toContain('drill');
  });

  it('with drillTarget and the marker, backs up with pg_basebackup, verifies, and restores into a local instance that has the data', async () => {
    await mark(true);
    const ext = await external(true);
    const backup = await ext.takeBaseBackup(ext.primary);
    expect(backup.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const workspace = readResources(ledgers.at(-1)!).find((r) => r.kind === 'temp-dir')!.path;
    expect(backup.dir.startsWith(workspace)).toBe(true);
    expect(await ext.verifyBackup(backup)).toMatchObject({ ok: true });
    expect(ext.listBackups()).toEqual([backup]);

    await withClient(source!.primary.connection, (c) => c.query("insert into orders select g, 'late' from generate_series(301, 350) g"));
    const restored = await ext.restore(backup, 'external-copy', 'backup-only');
    expect(restored.dataDir?.startsWith(workspace)).toBe(true);
    expect(restored.connection.port).not.toBe(source!.primary.connection.port);
    // The copy is reached as the URL's role with the workspace's password, never the URL's.
    expect(restored.connection).toMatchObject({ user: 'ext_admin', database: 'postgres' });
    expect(restored.connection.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await count(restored)).toBe(300);
    // Over TCP, anyone else is refused: no trust for a local copy of someone's data.
    for (const password of [undefined, SECRET]) {
      await expect(withClient({ ...restored.connection, password }, (c) => c.query('select 1'))).rejects.toThrow(/password/);
    }
    expect(readFileSync(path.join(restored.dataDir!, 'pg_hba.conf'), 'utf8')).not.toMatch(/^host.*trust/m);
    expect(await count(source!.primary)).toBe(350);
    // The copy inherited the source's postgresql.conf; it must archive into the workspace, not the source's archive.
    const archiveCommand = await withClient(restored.connection, async (c) => (await c.query('show archive_command')).rows[0].archive_command as string);
    expect(archiveCommand).toContain(workspace);
    expect(archiveCommand).not.toContain(source!.archiveDir);

    await expect(ext.restore(backup, 'pitr', { kind: 'latest' })).rejects.toMatchObject({ code: 'EXTERNAL_NO_WAL_ARCHIVE' });
    await ext.dispose();
    expect(await restored.isRunning()).toBe(false);
    expect(existsSync(workspace)).toBe(false);
    expect(await source!.primary.isRunning()).toBe(true);
  });

  it('provisions the drill data set on an external drill target, and teardown removes what it made locally', async () => {
    await mark(true);
    const from = logSize();
    const teardown = new TeardownStack();
    const scenario = await scenarioFor({ provider: 'external', url, drillTarget: true });
    const pg = await provisionPostgres(scenario.targets.postgres!, provisionOptions(teardown));
    try {
      expect(pg.provider).toBe('external');
      // The negative control of the refusal above: with the marker, the same call does write.
      expect(serverStatementsSince(from)).toEqual(expect.arrayContaining(['drop database if exists drill with (force)', 'create database drill']));
      // The 20 seeded accounts, and the workload's own (ids from WORKLOAD_ID_FLOOR) beside them.
      const seeded = await withClient({ ...pg.primary.connection, database: 'drill' }, async (c) =>
        Number((await c.query<{ n: string }>(`select count(*)::text n from accounts where id < ${WORKLOAD_ID_FLOOR}`)).rows[0]!.n),
      );
      expect(seeded).toBe(20);
    } finally {
      expect(await teardown.runAll()).toEqual([]);
      await withClient(source!.primary.connection, (c) => c.query('drop database drill'));
    }
  });

  it('never puts the URL password in error messages, causes or debug output', async () => {
    const logged: string[] = [];
    const originalLog = createDebug.log;
    const enabled = createDebug.disable();
    createDebug.log = (...args: unknown[]) => void logged.push(format(...args));
    createDebug.enable('drill:*');
    try {
      const closedPort = await freeLoopbackPort();
      const unreachable = await external(true, `postgres://postgres:${SECRET}@127.0.0.1:${closedPort}/postgres`);
      await withClient(source!.primary.connection, (c) => c.query(`create role app login password '${SECRET}'`));
      // Reachable over SQL, refused by the replication protocol: pg_basebackup itself fails.
      const noReplication = await external(true, url.replace(`ext_admin:${SECRET}@`, `app:${SECRET}@`));
      await mark(true);
      const failures = await Promise.all([
        unreachable.primary.serverVersion().catch((e: unknown) => e),
        unreachable.takeBaseBackup().catch((e: unknown) => e),
        noReplication.takeBaseBackup().catch((e: unknown) => e),
      ]);
      expect(failures.map((e) => (e as { code?: string }).code)).toEqual(['EXTERNAL_UNREACHABLE', 'EXTERNAL_UNREACHABLE', 'COMMAND_FAILED']);
      expect((failures[2] as Error).message).toMatch(/replication|superuser/);
      for (const e of failures) {
        expect(e).toMatchObject({ kind: 'environment' });
        expect(`${(e as Error).message} ${String((e as Error).cause ?? '')} ${JSON.stringify(e)}`).not.toContain(SECRET);
      }
      expect(logged.join('\n')).toContain('pg_basebackup');
      expect(logged.join('\n')).not.toContain(SECRET);
    } finally {
      createDebug.log = originalLog;
      createDebug.enable(enabled);
    }
  });
});

async function databases(): Promise<string[]> {
  return withClient(source!.primary.connection, async (c) => (await c.query<{ datname: string }>('select datname from pg_database')).rows.map((r) => r.datname));
}

async function scenarioFor(postgres: Partial<NonNullable<Scenario['targets']['postgres']>>): Promise<Scenario> {
  const { scenario } = await loadScenarioFile(path.resolve(import.meta.dirname, '../../drills/scenarios/db-corruption-pitr.yaml'));
  scenario.targets.postgres = { ...scenario.targets.postgres!, ...postgres, dataset: { accounts: 20, transfers: 50 } };
  return scenario;
}

function provisionOptions(teardown: TeardownStack) {
  // provisionPostgres only announces the provider and notes component versions.
  const recorder = { event: () => undefined, journal: { components: {} } } as unknown as JournalRecorder;
  return { runId: 'test-external-provision', clock: startClock(), ledger: ledger(), teardown, recorder };
}
