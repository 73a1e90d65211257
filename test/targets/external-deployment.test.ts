import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format } from 'node:util';
import createDebug from 'debug';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionPostgres } from '../../src/engine/provision.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { ExternalDeployment } from '../../src/targets/postgres/external-deployment.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

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
  url = `postgres://postgres:${SECRET}@127.0.0.1:${port}/postgres`;
  await withClient(source.primary.connection, (c) =>
    c.query("create table orders(id int primary key, note text); insert into orders select g, 'o' || g from generate_series(1, 300) g"),
  );
});

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

  it('with drillTarget, backs up with pg_basebackup, verifies, and restores into a local instance that has the data', async () => {
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
    expect(restored.connection.password).toBeUndefined();
    expect(await count(restored)).toBe(300);
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
    const teardown = new TeardownStack();
    const scenario = await scenarioFor({ provider: 'external', url, drillTarget: true });
    const pg = await provisionPostgres(scenario.targets.postgres!, provisionOptions(teardown));
    try {
      expect(pg.provider).toBe('external');
      expect(await count({ ...pg.primary, connection: { ...pg.primary.connection, database: 'drill' } }, 'accounts')).toBe(20);
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
      // Reachable over SQL (trust), refused by the replication protocol: pg_basebackup itself fails.
      const noReplication = await external(true, url.replace(`postgres:${SECRET}@`, `app:${SECRET}@`));
      const failures = await Promise.all([
        unreachable.primary.serverVersion().catch((e: unknown) => e),
        unreachable.takeBaseBackup().catch((e: unknown) => e),
        noReplication.takeBaseBackup().catch((e: unknown) => e),
      ]);
      expect(failures.map((e) => (e as { code?: string }).code)).toEqual(['EXTERNAL_UNREACHABLE', 'EXTERNAL_BACKUP_FAILED', 'COMMAND_FAILED']);
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
