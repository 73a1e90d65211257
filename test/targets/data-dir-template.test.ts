import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { templatesDir } from '../../src/targets/postgres/data-dir-template.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

// A cache of its own: the first deployment creates the template, the second copies it.
const cache = mkdtempSync(path.join(os.tmpdir(), 'drill-test-pg-template-'));
process.env.DRILL_CACHE_DIR = cache;
const deployments: NativeDeployment[] = [];
let first: NativeDeployment;
let second: NativeDeployment;
let templateBefore: { path: string; mtimeMs: number };

const create = (runId: string) => NativeDeployment.create({ runId, clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => deployments.push(d));
const canLogIn = (i: PgInstance, password: string | undefined) =>
  withClient({ ...i.connection, password, database: 'postgres' }, async (c) => (await c.query('select 1')).rowCount === 1).catch((error: Error) => error.message);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

beforeAll(async () => {
  first = await create('test-template-a');
  const [key] = readdirSync(templatesDir());
  templateBefore = { path: path.join(templatesDir(), key!), mtimeMs: statSync(path.join(templatesDir(), key!, 'PG_VERSION')).mtimeMs };
  second = await create('test-template-b');
});

afterAll(async () => {
  for (const d of deployments) await d.dispose();
  rmSync(cache, { recursive: true, force: true });
});

describe('PostgreSQL data directories from a cached initdb template (real servers)', () => {
  it('the first deployment keeps one template, never started; the second copies it unchanged', () => {
    expect(readdirSync(templatesDir())).toHaveLength(1);
    expect(readdirSync(templateBefore.path)).not.toContain('postmaster.pid');
    expect(statSync(path.join(templateBefore.path, 'PG_VERSION')).mtimeMs).toBe(templateBefore.mtimeMs);
    // Owned as initdb left it: the user PostgreSQL runs as (root runs it as postgres).
    if (process.getuid?.() === 0) expect(statSync(templateBefore.path).uid).not.toBe(0);
  });

  it('each instance takes its own run’s password and refuses the other’s', async () => {
    expect(await canLogIn(first.primary, first.primary.connection.password)).toBe(true);
    expect(await canLogIn(second.primary, second.primary.connection.password)).toBe(true);
    expect(first.primary.connection.password).not.toBe(second.primary.connection.password);
    expect(await canLogIn(second.primary, first.primary.connection.password)).toMatch(/password authentication failed/);
    expect(await canLogIn(first.primary, second.primary.connection.password)).toMatch(/password authentication failed/);
  });

  it('the template holds neither run’s password, and no password file is left beside the data', () => {
    for (const file of filesUnder(templateBefore.path)) {
      const bytes = readFileSync(file);
      for (const d of [first, second]) expect(bytes.includes(d.primary.connection.password!), file).toBe(false);
    }
    for (const d of [first, second]) {
      const root = path.dirname(d.archiveDir);
      expect(readdirSync(root).filter((f) => f.includes('password'))).toEqual([]);
    }
  });

  it('the server keeps data checksums and SCRAM from the template’s initdb', async () => {
    const rows = await withClient({ ...second.primary.connection, database: 'postgres' }, async (c) =>
      (await c.query<{ setting: string }>("select setting from pg_settings where name = 'data_checksums'")).rows,
    );
    expect(rows).toEqual([{ setting: 'on' }]);
    const hba = readFileSync(path.join(second.primary.dataDir, 'pg_hba.conf'), 'utf8');
    expect(hba).toMatch(/^local\s+all\s+all\s+scram-sha-256/m);
    expect(hba).not.toMatch(/\btrust\b\s*$/m);
  });
});
