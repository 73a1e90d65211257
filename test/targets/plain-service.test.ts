import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReaderRole } from '../../sut/truststream/src/admin/index.js';
import { startTestDatabase, type TestDatabase } from '../../sut/truststream/test/support/test-database.js';
import { startClock } from '../../src/engine/clock.js';
import type { CanaryAck } from '../../src/engine/journal-types.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { PlainService } from '../../src/targets/service/plain-service.js';
import { ApiCanaryChannel } from '../../src/workload/api-canary-channel.js';
import { CanaryWriter } from '../../src/workload/canary-writer.js';
import { DatabaseRouter } from '../../src/workload/database-router.js';
import { ServiceHttpProbe } from '../../src/workload/probes/service-http-probe.js';
import { ServiceClient } from '../../src/workload/service-client.js';
import { ServiceMonitor } from '../../src/workload/service-monitor.js';
import { WORKLOAD_ACCOUNTS } from '../../src/workload/workload-accounts.js';

let db: TestDatabase;
let work: string;
let readerPassword: string;
let service: PlainService | undefined;
const ledgerFile = () => path.join(work, 'resources.jsonl');

beforeAll(async () => {
  db = await startTestDatabase('test-plain-service');
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-plain-service-'));
  const token = await db.token('drill-test');
  const reader = await withClient(db.connection, (c) => createReaderRole(c));
  readerPassword = reader.password;
  service = await PlainService.start(
    {
      runId: 'test-plain-service',
      ledger: new ResourceLedger(ledgerFile()),
      version: '4.4.0',
      replicas: { api: 2, worker: 1, scheduler: 0, reader: 1 },
      database: db.connection,
      reader,
      token,
      readyTimeoutMs: 30_000,
      logDir: path.join(work, 'logs'),
    },
    (s) => (service = s),
  );
});
afterAll(async () => {
  await service?.stop();
  await db?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const alive = () => readResources(ledgerFile()).filter((r) => r.kind === 'process' && recordedProcessAlive(r.pid, r.match));
const svc = () => service!;

describe('the service as plain processes (real PostgreSQL, real processes, real HTTP on loopback)', () => {
  it('lists its endpoints per component, every instance for metrics, and sends requests round-robin', async () => {
    expect((await svc().endpoints('api')).map((e) => e.name)).toEqual(['truststream-api-1', 'truststream-api-2']);
    expect((await svc().endpoints('reader')).map((e) => e.name)).toEqual(['truststream-reader-1']);
    expect((await svc().metricsEndpoints()).map((e) => e.name).sort()).toEqual(['truststream-api-1', 'truststream-api-2', 'truststream-reader-1', 'truststream-worker-1']);
    for (const e of await svc().metricsEndpoints()) expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new ServiceClient(svc(), 'api');
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await client.request('GET', '/health', { timeoutMs: 5000 })).endpoint.name);
    expect(seen).toEqual(['truststream-api-1', 'truststream-api-2', 'truststream-api-1', 'truststream-api-2']);
    expect(svc().description).toBe('TrustStram 4.4.0 as plain processes (api ×2, reader ×1, worker ×1)');
  });

  it('a service probe passes on /health and on an /api/ path (with the drill token), and fails naming the endpoint and status', async () => {
    const probe = (p: string, expect = 200) => new ServiceHttpProbe('p', svc(), 'api', p, expect, 250, 2000, true, svc().token);
    const signal = new AbortController().signal;
    await probe('/health').check(signal);
    await probe(`/api/accounts/${WORKLOAD_ACCOUNTS.smokeFrom}`).check(signal);
    await expect(probe('/api/transfers/999999').check(signal)).rejects.toThrow(/^HTTP 404 transfer_not_found from truststream-api-\d \/api\/transfers\/999999, expected 200$/);
    // Without the token the same path is refused: the probe really authenticates.
    await expect(new ServiceHttpProbe('p', svc(), 'api', '/api/transfers/1', 200, 250, 2000, true).check(signal)).rejects.toThrow(/HTTP 401 unauthorized/);
  });

  it('the API canary: every 201 is an ack, read back from the database with its checksum; a changed row fails it', async () => {
    const router = new DatabaseRouter(db.deployment.primary);
    const acks: CanaryAck[] = [];
    const writer = new CanaryWriter({ router, clock: startClock(), intervalMs: 20, onAck: (a) => acks.push(a), onFailure: () => undefined, channel: new ApiCanaryChannel(svc(), svc().token, router) });
    writer.start();
    while (acks.length < 15) await new Promise((r) => setTimeout(r, 20));
    await writer.stop();
    const ledger = await writer.readBack(db.connection, 'primary', startClock().stamp);
    const acked = acks.map((a) => `${a.epoch}:${a.id}`);
    expect(ledger.rows.map((r) => `${r.epoch}:${r.id}`)).toEqual(expect.arrayContaining(acked));
    expect(ledger.rows.every((r) => r.checksumOk)).toBe(true);
    // Service-created transfers, numbered from 1e9, between the drill's canary accounts.
    const rows = await db.sql<{ id: string; from_account: string }>("select id::text, from_account::text from transfers where reference = 'canary-1-1'");
    expect(Number(rows[0]!.id)).toBeGreaterThanOrEqual(1_000_000_000);
    expect(Number(rows[0]!.from_account)).toBe(WORKLOAD_ACCOUNTS.canaryFrom);
    // Negative control: a row whose content changed no longer matches what (epoch, seq) says it was.
    await db.sql("update transfers set amount = amount + 1 where reference = 'canary-1-2'");
    const changed = await writer.readBack(db.connection, 'primary', startClock().stamp);
    expect(changed.rows.filter((r) => !r.checksumOk).map((r) => r.id)).toEqual([2]);
  });

  it('monitoring: request rates and latency quantiles from /metrics deltas, error log lines from the logs', async () => {
    const records: unknown[] = [];
    const monitor = new ServiceMonitor({ service: svc(), clock: startClock(), intervalMs: 1000, record: (s) => records.push(s) });
    expect(await monitor.sampleOnce()).toBeUndefined(); // the starting point
    const client = new ServiceClient(svc(), 'api', svc().token);
    for (let i = 0; i < 20; i++) await client.request('GET', '/health', { timeoutMs: 5000 });
    // A 404 is a request, not a server error.
    await client.request('GET', '/api/transfers/999999', { timeoutMs: 5000, authenticated: true });
    const sample = (await monitor.sampleOnce())!;
    expect(sample.instances).toBe(4);
    expect(sample.unreachable).toBe(0);
    expect(sample.requests).toBeGreaterThanOrEqual(21);
    expect(sample.serverErrorsPerSecond).toBe(0);
    expect(sample.p50Ms).toBeGreaterThan(0);
    expect(sample.p99Ms).toBeGreaterThanOrEqual(sample.p50Ms!);
    // Plain processes are not restarted in place: no container restart count to report.
    expect(sample.restarts).toBeUndefined();
    expect(records).toEqual([sample]);
  });

  it('restart deploys another release behind new endpoints; the old processes stop; monitoring counts its errors', async () => {
    const before = await svc().endpoints('api');
    const monitor = new ServiceMonitor({ service: svc(), clock: startClock(), intervalMs: 1000, record: () => undefined });
    await monitor.sampleOnce();
    const errorsBefore = await svc().errorLogs.errorLines();
    const result = await svc().restart({ version: '4.4.3', modes: ['api'] });
    expect(result).toMatchObject({ version: { from: '4.4.0', to: '4.4.3' }, restarted: ['api'] });
    const after = await svc().endpoints('api');
    expect(after.map((e) => e.url)).not.toEqual(before.map((e) => e.url));
    expect((await fetch(`${after[0]!.url}/health`).then((r) => r.json())) as object).toMatchObject({ version: '4.4.3' });
    await expect(fetch(`${before[0]!.url}/livez`)).rejects.toThrow(); // the old process is gone
    // 4.4.3 fails every write: 500 answers, counted as 5xx from the new processes' metrics and as ERROR lines in their logs.
    const client = new ServiceClient(svc(), 'api', svc().token);
    for (let i = 0; i < 3; i++) {
      const reply = await client.request('POST', '/api/transfers', { body: { fromAccount: WORKLOAD_ACCOUNTS.smokeFrom, toAccount: WORKLOAD_ACCOUNTS.smokeTo, amount: '1.00' }, timeoutMs: 5000, authenticated: true });
      expect(reply.status).toBe(500);
    }
    const sample = (await monitor.sampleOnce())!;
    expect(sample.serverErrorsPerSecond).toBeGreaterThan(0);
    expect(sample.errorLogLines).toBeGreaterThanOrEqual(3);
    // Every 500 is one ERROR request line (and nothing else is an error here): the counter says so too, and stays put.
    expect((await svc().errorLogs.errorLines()) - errorsBefore).toBe(sample.errorLogLines);
    expect((await monitor.sampleOnce())!.errorLogLines).toBe(0);
  });

  it('a release that does not come up fails the restart and leaves the running one serving', async () => {
    const before = await svc().endpoints('api');
    await expect(svc().restart({ version: '4.4.1', modes: ['api'] })).rejects.toMatchObject({ code: 'SERVICE_NOT_READY' });
    expect(svc().version).toBe('4.4.3');
    expect(await svc().endpoints('api')).toEqual(before);
    expect((await fetch(`${before[0]!.url}/health`)).status).toBe(200);
  });

  it('follows a database switch: restarted against the other database, writes land there', async () => {
    const other = await startTestDatabase('test-plain-service-b');
    try {
      // The other database knows the drill's token and reader role, as a restored copy of the cluster does.
      await withClient(other.connection, async (c) => {
        await createReaderRole(c);
        await c.query(`alter role truststream_reader password '${readerPassword}'`);
      });
      const tokenHash = (await db.sql<{ token_sha256: string }>("select token_sha256 from api_tokens where name = 'drill-test'"))[0]!.token_sha256;
      await other.sql('insert into api_tokens (name, token_sha256) values ($1, $2)', ['drill-test', tokenHash]);
      await svc().restart({ version: '4.4.0', modes: ['api'] });
      const moved = await svc().followDatabase(other.connection);
      expect(moved).toMatchObject({ database: { to: `${other.connection.host}:${other.connection.port}` } });
      const client = new ServiceClient(svc(), 'api', svc().token);
      const reply = await client.request('POST', '/api/transfers', { body: { fromAccount: WORKLOAD_ACCOUNTS.smokeFrom, toAccount: WORKLOAD_ACCOUNTS.smokeTo, amount: '2.00', reference: 'moved-1' }, timeoutMs: 5000, authenticated: true });
      expect(reply.status).toBe(201);
      expect(await other.sql("select 1 from transfers where reference = 'moved-1'")).toHaveLength(1);
      expect(await db.sql("select 1 from transfers where reference = 'moved-1'")).toHaveLength(0);
    } finally {
      await svc().followDatabase(db.connection).catch(() => undefined);
      await other.dispose();
    }
  });

  it('stop leaves no process of any launch', async () => {
    expect(alive().length).toBeGreaterThan(0);
    await svc().stop();
    expect(alive()).toEqual([]);
    // Nothing left to send traffic to.
    expect(await svc().endpoints('api')).toEqual([]);
  });
});
