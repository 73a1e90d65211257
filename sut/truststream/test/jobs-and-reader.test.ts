import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl } from '../../../src/targets/kubernetes/database-url.js';
import { withClient } from '../../../src/targets/postgres/with-client.js';
import { createReaderRole } from '../src/admin/reader-role.js';
import { richAccount, startTestDatabase, type TestDatabase } from './support/test-database.js';
import { call, eventually, startTestService, type TestService } from './support/test-service.js';

let db: TestDatabase;
let api: TestService;
let token: string;
let rich: { id: number; other: number };

beforeAll(async () => {
  db = await startTestDatabase('test-sut-jobs');
  api = await startTestService({ DATABASE_URL: db.url });
  token = await db.token('harness');
  rich = await richAccount(db);
});
afterAll(async () => {
  await api?.stop();
  await db?.dispose();
});

const write = async () => {
  const answer = await call(`${api.url}/api/transfers`, { token, body: { fromAccount: rich.id, toAccount: rich.other, amount: '0.25' } });
  expect(answer.status).toBe(201);
  return answer.body.id as number;
};
const queueItem = async (id: number) =>
  (await db.sql<{ processed_at: Date | null; processed_by: string | null; outcome: string | null; stale_at: Date | null }>(
    'select processed_at, processed_by, outcome, stale_at from transfer_queue where transfer_id = $1',
    [id],
  ))[0]!;

describe('worker (consumes the queue the API writes)', () => {
  it('settles every queued transfer exactly once, with two workers sharing the queue; the API shows it', async () => {
    const ids = [await write(), await write(), await write()];
    // Without a worker nothing is processed: the negative control of "the worker did it".
    await new Promise((r) => setTimeout(r, 300));
    for (const id of ids) expect((await queueItem(id)).processed_at).toBeNull();

    const workers = [await startTestService({ DATABASE_URL: db.url, WORKER_POLL_MS: '50' }, 'worker'), await startTestService({ DATABASE_URL: db.url, WORKER_POLL_MS: '50' }, 'worker')];
    try {
      const more = await Promise.all([1, 2, 3, 4, 5].map(() => write()));
      const all = [...ids, ...more];
      const pending = () => db.sql<{ n: number }>('select count(*)::int as n from transfer_queue where processed_at is null').then((r) => r[0]!.n);
      expect(await eventually(pending, (n) => n === 0)).toBe(0);
      for (const id of all) expect(await queueItem(id)).toMatchObject({ outcome: 'settled', processed_by: 'test-worker' });
      expect((await call(`${api.url}/api/transfers/${ids[0]}`, { token })).body.queue).toMatchObject({ outcome: 'settled', processedAt: expect.any(String) });
      const processed = await Promise.all(workers.map(async (w) => (await call(`${w.url}/metrics`)).text));
      const settled = processed.map((text) => Number(/^truststream_queue_processed_total\{outcome="settled"\} (\d+)$/m.exec(text)?.[1] ?? 0));
      expect(settled[0]! + settled[1]!).toBe(all.length);
      // Workers serve health and liveness too (for their probes), but not the API.
      expect((await call(`${workers[0]!.url}/health`)).body).toMatchObject({ status: 'ok', mode: 'worker' });
      expect((await call(`${workers[0]!.url}/api/accounts/${rich.id}`, { token })).status).toBe(404);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  it('reports a queue item whose transfer does not exist at error level instead of hiding it', async () => {
    await db.sql('insert into transfer_queue (transfer_id) values (1999999999)');
    const worker = await startTestService({ DATABASE_URL: db.url, WORKER_POLL_MS: '50' }, 'worker');
    try {
      const item = await eventually(() => queueItem(1_999_999_999), (i) => i.processed_at !== null);
      expect(item.outcome).toBe('transfer-missing');
      expect(worker.logs.find((l) => l.level === 'ERROR')).toMatchObject({ transferId: 1_999_999_999, msg: 'queue item names a transfer that does not exist' });
    } finally {
      await worker.stop();
    }
  });

  it('pauses in READ_ONLY_MODE', async () => {
    const id = await write();
    const worker = await startTestService({ DATABASE_URL: db.url, WORKER_POLL_MS: '50', READ_ONLY_MODE: 'true' }, 'worker');
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect((await queueItem(id)).processed_at).toBeNull();
    } finally {
      await worker.stop();
    }
  });
});

describe('scheduler (periodic job)', () => {
  it('writes a heartbeat each run and marks items unprocessed for 30 s stale, once', async () => {
    const id = await write();
    const fresh = await write();
    await db.sql("update transfer_queue set enqueued_at = clock_timestamp() - interval '31 seconds' where transfer_id = $1", [id]);
    const scheduler = await startTestService({ DATABASE_URL: db.url, SCHEDULER_INTERVAL_MS: '100' }, 'scheduler');
    try {
      const beats = () => db.sql<{ beat_at: Date; version: string }>("select beat_at, version from service_heartbeats where component = 'scheduler' and instance = 'test-scheduler'");
      const first = await eventually(beats, (rows) => rows.length === 1);
      expect(first[0]!.version).toBe('4.4.0');
      const later = await eventually(beats, (rows) => rows[0]!.beat_at.getTime() > first[0]!.beat_at.getTime());
      expect(later[0]!.beat_at.getTime()).toBeGreaterThan(first[0]!.beat_at.getTime());

      const stale = await eventually(() => queueItem(id), (i) => i.stale_at !== null);
      expect(stale.stale_at).not.toBeNull();
      expect((await queueItem(fresh)).stale_at).toBeNull();
      const metrics = (await call(`${scheduler.url}/metrics`)).text;
      expect(metrics).toMatch(/^truststream_queue_stale_marked_total 1$/m);
      expect(metrics).toMatch(/^truststream_queue_pending [1-9]\d*$/m);
      expect(scheduler.logs.filter((l) => l.level === 'WARN' && String(l.msg).includes('marked stale'))).toHaveLength(1);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('reader (reads with a read-only database role)', () => {
  it('serves the GET endpoints and /health as truststream_reader; that role cannot write, at the database', async () => {
    const role = await withClient(db.connection, (c) => createReaderRole(c));
    expect(role.role).toBe('truststream_reader');
    const readerUrl = databaseUrl({ ...db.connection, user: role.role, password: role.password });
    const reader = await startTestService({ DATABASE_URL: db.url, READER_DATABASE_URL: readerUrl }, 'reader');
    try {
      const health = await call(`${reader.url}/health`);
      expect(health.body).toMatchObject({ status: 'ok', mode: 'reader', readOnly: true, databaseUser: 'truststream_reader', schemaVersion: '007' });
      expect((await call(`${reader.url}/api/accounts/${rich.id}`, { token })).status).toBe(200);
      expect((await call(`${reader.url}/api/transfers/1`, { token })).status).toBe(200);
      expect((await call(`${reader.url}/api/transfers/1`, { token: 'unknown' })).status).toBe(401);
      const post = await call(`${reader.url}/api/transfers`, { token, body: { fromAccount: rich.id, toAccount: rich.other, amount: '1.00' } });
      expect(post.status).toBe(405);
      expect(post.body.error).toBe('read_only_replica');
      expect(reader.rawLogs()).not.toContain(role.password);
    } finally {
      await reader.stop();
    }
    const asReader = { ...db.connection, user: role.role, password: role.password };
    await expect(withClient(asReader, (c) => c.query("insert into transfers values (1999999998, 1, 2, 1, now(), 'x')"))).rejects.toThrow(/permission denied for table transfers/);
    await expect(withClient(asReader, (c) => c.query("update api_tokens set revoked_at = null"))).rejects.toThrow(/permission denied for table api_tokens/);
    await expect(withClient(asReader, (c) => c.query("select nextval('service_transfer_id_seq')"))).rejects.toThrow(/permission denied for sequence/);
    // The negative control: the API's own role can write the same row.
    await withClient(db.connection, (c) => c.query("insert into transfers values (1999999998, 1, 2, 1, now(), 'x'); delete from transfers where id = 1999999998"));
    // Called again (a new drill): a new password, and the role still reads.
    const again = await withClient(db.connection, (c) => createReaderRole(c));
    expect(again.password).not.toBe(role.password);
    const fresh = await withClient({ ...db.connection, user: again.role, password: again.password }, async (c) => (await c.query('select count(*)::int as n from accounts where id < 1000000000')).rows[0]);
    expect(fresh).toEqual({ n: 30 });
  });
});
