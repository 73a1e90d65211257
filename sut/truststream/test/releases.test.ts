import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.js';
import { startService, StartupDefectError } from '../src/service.js';
import { richAccount, startTestDatabase, type TestDatabase } from './support/test-database.js';
import { call, startTestService, type TestService } from './support/test-service.js';

let db: TestDatabase;
let token: string;
let rich: { id: number; other: number };

beforeAll(async () => {
  db = await startTestDatabase('test-sut-releases');
  token = await db.token('harness');
  rich = await richAccount(db);
});
afterAll(async () => {
  await db?.dispose();
});

async function withRelease<T>(version: string, fn: (s: TestService) => Promise<T>): Promise<T> {
  const service = await startTestService({ DATABASE_URL: db.url, VERSION: version });
  try {
    return await fn(service);
  } finally {
    await service.stop();
  }
}

const writeTo = (s: TestService) => call(`${s.url}/api/transfers`, { token, body: { fromAccount: rich.id, toAccount: rich.other, amount: '0.50' } });
/** The fastest of `n` answers: a lower bound that load cannot push below what the release adds. */
async function fastest(url: string, n = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push((await call(url)).ms);
  return Math.min(...times);
}

describe('the release catalogue, each release against the same real database', () => {
  it('4.3.9 and 4.4.0 (good): healthy, writes acknowledged', async () => {
    for (const version of ['4.3.9', '4.4.0']) {
      await withRelease(version, async (s) => {
        expect((await call(`${s.url}/health`)).body).toMatchObject({ status: 'ok', version });
        expect((await writeTo(s)).status).toBe(201);
      });
    }
  });

  it('4.4.1 (crash loop): fails at start-up before it listens, naming the defect', async () => {
    const config = parseConfig({ DATABASE_URL: db.url, VERSION: '4.4.1', PORT: '0' }, { mode: 'api' });
    const failure = startService(config, { logDestination: { write: () => undefined } });
    await expect(failure).rejects.toThrow(StartupDefectError);
    await expect(failure).rejects.toThrow(/release 4.4.1 failed to start: settings loader/);
    // (The process exits 1 on it: sut/truststream/test/bundle.test.ts.)
  });

  it('4.4.2 (migration mismatch): alive (/livez 200) but never healthy: /health 503 schema_mismatch, expecting 008', async () => {
    await withRelease('4.4.2', async (s) => {
      expect((await call(`${s.url}/livez`)).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const health = await call(`${s.url}/health`);
        expect(health.status).toBe(503);
        expect(health.body).toMatchObject({ reason: 'schema_mismatch', schemaVersion: '007', expectedSchemaVersion: '008', database: 'reachable' });
      }
    });
  });

  it('4.4.3 (writes fail): POST is a 500 from the database, logged at ERROR and counted; reads and /health are fine; nothing written', async () => {
    const rows = await db.sql('select count(*)::int as n from transfers');
    await withRelease('4.4.3', async (s) => {
      expect((await call(`${s.url}/health`)).status).toBe(200);
      expect((await call(`${s.url}/api/accounts/${rich.id}`, { token })).status).toBe(200);
      const write = await writeTo(s);
      expect(write.status).toBe(500);
      expect(write.body).toEqual({ error: 'internal' });
      const line = s.logs.find((l) => l.route === '/api/transfers');
      expect(line).toMatchObject({ level: 'ERROR', status: 500, err: 'column "fee" of relation "transfers" does not exist' });
      expect((await call(`${s.url}/metrics`)).text).toMatch(/^truststream_database_errors_total\{operation="POST \/api\/transfers"\} 1$/m);
    });
    expect(await db.sql('select count(*)::int as n from transfers')).toEqual(rows);
  });

  it('4.4.5 (app-clock timestamps): created_at is the process\'s own clock, two hours off when it is; 4.4.0 takes the database\'s', async () => {
    const skewMs = 7_200_000;
    const createdAt = async (version: string) =>
      withRelease(version, async (s) => {
        // The process's wall clock two hours ahead (Date only: timers and the database stay true).
        vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + skewMs });
        try {
          const answer = await writeTo(s);
          expect(answer.status).toBe(201);
          return Date.parse((answer.body as { createdAt: string }).createdAt) - (Date.now() - skewMs);
        } finally {
          vi.useRealTimers();
        }
      });
    expect(Math.abs((await createdAt('4.4.5')) - skewMs)).toBeLessThan(5000);
    expect(Math.abs(await createdAt('4.4.0'))).toBeLessThan(5000);
  });

  it('4.4.4 (slow): every /health and API answer takes at least 700 ms more; /livez is not slowed; 4.4.0 is not slow', async () => {
    await withRelease('4.4.4', async (s) => {
      expect(await fastest(`${s.url}/health`, 3)).toBeGreaterThanOrEqual(700);
      const write = await writeTo(s);
      expect(write.status).toBe(201);
      expect(write.ms).toBeGreaterThanOrEqual(700);
      expect(await fastest(`${s.url}/livez`)).toBeLessThan(700);
      // Its own histogram shows it: no /health observation under 0.5 s.
      expect((await call(`${s.url}/metrics`)).text).toMatch(/^truststream_http_request_duration_seconds_bucket\{le="0.5",method="GET",route="\/health"\} 0$/m);
    });
    await withRelease('4.4.0', async (s) => {
      expect(await fastest(`${s.url}/health`)).toBeLessThan(700);
    });
  });
});
