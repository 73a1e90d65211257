import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../../src/targets/postgres/with-client.js';
import { Migrator } from '../../../src/workload/migrations/migrator.js';
import { RELEASE_MIGRATIONS } from '../../../src/workload/migrations/index.js';
import { databaseUrl } from '../../../src/targets/kubernetes/database-url.js';
import { revokeToken } from '../src/admin/tokens.js';
import { tokenHash } from '../src/domain/token-hash.js';
import { richAccount, startTestDatabase, type TestDatabase } from './support/test-database.js';
import { call, eventually, startTestService, type TestService } from './support/test-service.js';

let db: TestDatabase;
let api: TestService;
let token: string;
let rich: { id: number; balance: number; other: number };

beforeAll(async () => {
  db = await startTestDatabase('test-sut-api');
  api = await startTestService({ DATABASE_URL: db.url });
  token = await db.token('harness');
  rich = await richAccount(db);
});
afterAll(async () => {
  await api?.stop();
  await db?.dispose();
});

const transfer = (body: unknown, t = token) => call(`${api.url}/api/transfers`, { token: t, body });

describe('GET /health (real PostgreSQL)', () => {
  it('is 200 with the release, the database and the schema version', async () => {
    const { status, body } = await call(`${api.url}/health`);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'ok',
      version: '4.4.0',
      region: 'local',
      colour: 'blue',
      mode: 'api',
      readOnly: false,
      database: 'reachable',
      databaseUser: 'postgres',
      schemaVersion: '007',
      expectedSchemaVersion: '007',
    });
    expect((await call(`${api.url}/livez`)).status).toBe(200);
  });

  it('is 503 (database unreachable) while PostgreSQL is stopped, /livez stays 200, and it recovers by itself', async () => {
    await db.deployment.primary.stop();
    try {
      const down = await call(`${api.url}/health`);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'unavailable', reason: 'database_unreachable', database: 'unreachable' });
      expect((await call(`${api.url}/livez`)).status).toBe(200);
      // A write while the database is down is not acknowledged.
      const write = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '1.00' });
      expect(write.status).toBe(503);
      expect(write.body).toEqual({ error: 'database_unavailable' });
    } finally {
      await db.deployment.primary.start();
    }
    const back = await eventually(() => call(`${api.url}/health`), (r) => r.status === 200);
    expect(back.status).toBe(200);
  });

  it('is 503 (schema mismatch) on a database whose schema is older than the release needs; 200 once migrated', async () => {
    const admin = db.deployment.primary.connection;
    await withClient(admin, (c) => c.query('create database older'));
    const older = { ...admin, database: 'older' };
    await new Migrator(older, RELEASE_MIGRATIONS).up('006');
    const service = await startTestService({ DATABASE_URL: databaseUrl(older) });
    try {
      const mismatch = await call(`${service.url}/health`);
      expect(mismatch.status).toBe(503);
      expect(mismatch.body).toMatchObject({ reason: 'schema_mismatch', database: 'reachable', schemaVersion: '006', expectedSchemaVersion: '007' });
      await new Migrator(older, RELEASE_MIGRATIONS).up();
      expect((await call(`${service.url}/health`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});

describe('bearer tokens (checked in the database on every request)', () => {
  it('401 without a token, with an unknown one, with a malformed header; the stored form is the sha256 only', async () => {
    expect((await call(`${api.url}/api/accounts/${rich.id}`)).status).toBe(401);
    expect((await call(`${api.url}/api/accounts/${rich.id}`, { token: 'tst_not-a-real-token' })).status).toBe(401);
    const stored = await db.sql<{ name: string; token_sha256: string }>("select name, token_sha256 from api_tokens where name = 'harness'");
    expect(stored).toEqual([{ name: 'harness', token_sha256: tokenHash(token) }]);
    expect(JSON.stringify(await db.sql('select * from api_tokens'))).not.toContain(token);
    expect((await call(`${api.url}/api/accounts/${rich.id}`, { token })).status).toBe(200);
  });

  it('a revoked token is refused on the very next request (no cache)', async () => {
    const leaked = await db.token('leaked');
    expect((await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '0.01' }, leaked)).status).toBe(201);
    await withClient(db.connection, (c) => revokeToken(c, 'leaked'));
    const refused = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '0.01' }, leaked);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'unauthorized' });
    expect((await call(`${api.url}/api/accounts/${rich.id}`, { token: leaked })).status).toBe(401);
    // The other token is untouched.
    expect((await call(`${api.url}/api/accounts/${rich.id}`, { token })).status).toBe(200);
  });
});

describe('transfers (acknowledged writes)', () => {
  it('201 after COMMIT with the id (>= 1e9, from the service sequence); read back; the balances add up; seed rows unchanged', async () => {
    const before = await call(`${api.url}/api/accounts/${rich.id}`, { token });
    const beforeOther = await call(`${api.url}/api/accounts/${rich.other}`, { token });
    const seedBefore = await db.sql<{ n: string; sum: string }>('select count(*)::text n, md5(string_agg(t::text, \',\' order by id)) sum from transfers t where id < 1000000000');

    const created = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '12.34' });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect(id).toBeGreaterThanOrEqual(1_000_000_000);
    expect(created.headers.get('location')).toBe(`/api/transfers/${id}`);
    expect(created.body).toMatchObject({ fromAccount: rich.id, toAccount: rich.other, amount: '12.34', reference: `TR-${id}` });
    // Committed: another connection sees it, and its queue item, at once.
    expect(await db.sql('select id::int8::text as id from transfers where id = $1', [id])).toEqual([{ id: String(id) }]);
    expect(await db.sql('select count(*)::int as n from transfer_queue where transfer_id = $1', [id])).toEqual([{ n: 1 }]);

    const read = await call(`${api.url}/api/transfers/${id}`, { token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, amount: '12.34', queue: { processedAt: null } });

    const after = await call(`${api.url}/api/accounts/${rich.id}`, { token });
    const afterOther = await call(`${api.url}/api/accounts/${rich.other}`, { token });
    expect(Number(after.body.balance)).toBeCloseTo(Number(before.body.balance) - 12.34, 2);
    expect(Number(afterOther.body.balance)).toBeCloseTo(Number(beforeOther.body.balance) + 12.34, 2);
    expect(after.body.openingBalance).toBe(before.body.openingBalance);
    const seedAfter = await db.sql('select count(*)::text n, md5(string_agg(t::text, \',\' order by id)) sum from transfers t where id < 1000000000');
    expect(seedAfter).toEqual(seedBefore);
  });

  it('a seed transfer reads back without a queue item; unknown ids are 404, malformed ones 400', async () => {
    expect((await call(`${api.url}/api/transfers/1`, { token })).body).toMatchObject({ id: 1, reference: 'TR-00000001', queue: null });
    expect((await call(`${api.url}/api/transfers/999999`, { token })).status).toBe(404);
    expect((await call(`${api.url}/api/accounts/999999`, { token })).status).toBe(404);
    expect((await call(`${api.url}/api/transfers/abc`, { token })).status).toBe(400);
  });

  it('400 names what is wrong with a body; 422 for an unknown account', async () => {
    const bad = await transfer({ fromAccount: 'x', toAccount: rich.other, amount: '1.001', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual([
      'fromAccount: expected a positive integer account id',
      'amount: expected a positive amount with at most two decimal places, e.g. "12.50"',
      'unknown field(s): extra',
    ]);
    expect((await transfer('{not json')).body).toEqual({ error: 'bad_request', problems: ['body: not valid JSON'] });
    expect((await transfer({ fromAccount: rich.id, toAccount: rich.id, amount: '1' })).status).toBe(400);
    expect((await transfer({ fromAccount: rich.id, toAccount: 999_999, amount: '1' })).body).toEqual({ error: 'account_not_found', account: 999_999 });
  });

  it('409 when the computed balance would go negative; nothing is written', async () => {
    const { body } = await call(`${api.url}/api/accounts/${rich.id}`, { token });
    const count = async () => (await db.sql<{ n: number }>('select count(*)::int as n from transfers'))[0]!.n;
    const rows = await count();
    const tooMuch = (Number(body.balance) + 0.01).toFixed(2);
    const refused = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: tooMuch });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'insufficient_funds', balance: body.balance });
    expect(await count()).toBe(rows);
    // Exactly the balance is allowed (the negative control of the check), and leaves 0.00.
    const all = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: body.balance });
    expect(all.status).toBe(201);
    expect((await call(`${api.url}/api/accounts/${rich.id}`, { token })).body.balance).toBe('0.00');
    // Give it back so later tests can spend.
    expect((await transfer({ fromAccount: rich.other, toAccount: rich.id, amount: body.balance })).status).toBe(201);
  });

  it('concurrent transfers cannot overdraw an account together', async () => {
    const { body } = await call(`${api.url}/api/accounts/${rich.id}`, { token });
    const share = (Number(body.balance) * 0.4).toFixed(2);
    const answers = await Promise.all([1, 2, 3, 4].map(() => transfer({ fromAccount: rich.id, toAccount: rich.other, amount: share })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 409, 409]);
    const balance = Number((await call(`${api.url}/api/accounts/${rich.id}`, { token })).body.balance);
    expect(balance).toBeGreaterThanOrEqual(0);
    expect((await transfer({ fromAccount: rich.other, toAccount: rich.id, amount: (Number(share) * 2).toFixed(2) })).status).toBe(201);
  });

  it('a client reference makes POST idempotent: the retry gets the same transfer (200), a different transfer under it 409', async () => {
    const reference = `canary-1-${Date.now()}`;
    const first = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '1.50', reference });
    expect(first.status).toBe(201);
    const retry = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '1.5', reference });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    const conflict = await transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '2.00', reference });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: 'reference_conflict', transferId: first.body.id });
    expect(await db.sql('select count(*)::int as n from transfers where reference = $1', [reference])).toEqual([{ n: 1 }]);
    // Concurrent retries of a new reference: one transfer, every answer names it.
    const again = `canary-2-${Date.now()}`;
    const racing = await Promise.all([1, 2, 3].map(() => transfer({ fromAccount: rich.id, toAccount: rich.other, amount: '0.10', reference: again })));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
  });
});

describe('READ_ONLY_MODE=true', () => {
  it('refuses writes with 503 read_only before touching the database, still serves reads and health', async () => {
    const readOnly = await startTestService({ DATABASE_URL: db.url, READ_ONLY_MODE: 'true' });
    try {
      const rows = await db.sql('select count(*)::int as n from transfers');
      const refused = await call(`${readOnly.url}/api/transfers`, { token, body: { fromAccount: rich.id, toAccount: rich.other, amount: '1.00' } });
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: 'read_only' });
      expect(await db.sql('select count(*)::int as n from transfers')).toEqual(rows);
      // Still authenticated first: an unknown token is a 401, not a hint about the mode.
      expect((await call(`${readOnly.url}/api/transfers`, { token: 'nope', body: {} })).status).toBe(401);
      expect((await call(`${readOnly.url}/api/accounts/${rich.id}`, { token })).status).toBe(200);
      expect((await call(`${readOnly.url}/health`)).body).toMatchObject({ status: 'ok', readOnly: true });
      expect(await call(`${readOnly.url}/metrics`).then((r) => r.text)).toMatch(/^truststream_read_only 1$/m);
      // A refusal by design is a warning, not an error line.
      expect(readOnly.logs.find((l) => l.status === 503 && l.route === '/api/transfers')?.level).toBe('WARN');
    } finally {
      await readOnly.stop();
    }
  });

  it('a database that refuses writes (default_transaction_read_only, the harness\'s stop-writes) is a 503 read_only too', async () => {
    await db.sql("alter database drill set default_transaction_read_only = on");
    const service = await startTestService({ DATABASE_URL: db.url });
    try {
      const refused = await call(`${service.url}/api/transfers`, { token, body: { fromAccount: rich.id, toAccount: rich.other, amount: '1.00' } });
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: 'read_only', source: 'database' });
    } finally {
      await service.stop();
      await withClient(db.deployment.primary.connection, (c) => c.query('alter database drill reset default_transaction_read_only'));
    }
  });
});

describe('metrics and logs', () => {
  it('/metrics counts requests by route and status, latency, database errors, read-only and build info', async () => {
    await call(`${api.url}/api/accounts/${rich.id}`, { token });
    await call(`${api.url}/api/accounts/${rich.id}`);
    const text = (await call(`${api.url}/metrics`)).text;
    expect(text).toMatch(/^truststream_http_requests_total\{method="GET",route="\/api\/accounts\/:id",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^truststream_http_requests_total\{method="GET",route="\/api\/accounts\/:id",status="401"\} [1-9]\d*$/m);
    expect(text).toMatch(/^truststream_http_requests_total\{method="POST",route="\/api\/transfers",status="201"\} [1-9]\d*$/m);
    expect(text).toMatch(/^truststream_http_request_duration_seconds_count\{method="GET",route="\/health"\} [1-9]\d*$/m);
    expect(text).toMatch(/^truststream_http_request_duration_seconds_bucket\{le="0.5",method="GET",route="\/api\/accounts\/:id"\} [1-9]\d*$/m);
    // The outage earlier in this file failed health checks and a write.
    expect(text).toMatch(/^truststream_database_errors_total\{operation="health"\} [1-9]\d*$/m);
    expect(text).toMatch(/^truststream_database_errors_total\{operation="POST \/api\/transfers"\} [1-9]\d*$/m);
    expect(text).toMatch(/^truststream_read_only 0$/m);
    expect(text).toMatch(/^truststream_build_info\{version="4.4.0",colour="blue",region="local",mode="api"\} 1$/m);
  });

  it('one JSON line per request; failures at level "ERROR" (grep ERROR finds them, and only them); no token ever logged', async () => {
    const logs = api.logs;
    const requests = logs.filter((l) => l.msg === 'request');
    const write = requests.find((l) => l.route === '/api/transfers' && l.status === 201);
    expect(write).toMatchObject({ level: 'INFO', method: 'POST', path: '/api/transfers', transferId: expect.any(Number), ms: expect.any(Number) });
    expect(['harness', 'leaked']).toContain(write?.tokenName);
    const errors = logs.filter((l) => l.level === 'ERROR');
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect(Number(line.status ?? 500)).toBeGreaterThanOrEqual(500);
    expect(errors.some((l) => l.route === '/health' && l.status === 503 && typeof l.err === 'string')).toBe(true);
    const grepError = api.rawLogs().split('\n').filter((l) => l.includes('ERROR'));
    expect(grepError.length).toBe(errors.length);
    expect(api.rawLogs()).not.toContain(token);
    expect(api.rawLogs()).not.toContain(db.url);
  });
});
