import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { ServiceProcesses } from '../../src/targets/service/service-processes.js';
import { startTestDatabase, type TestDatabase } from '../../sut/truststream/test/support/test-database.js';

let db: TestDatabase;
let work: string;
const launches: ServiceProcesses[] = [];

beforeAll(async () => {
  db = await startTestDatabase('test-service-processes');
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-service-test-'));
});
afterAll(async () => {
  for (const launch of launches) await launch.stop();
  await db?.dispose();
  rmSync(work, { recursive: true, force: true });
});

let ledgers = 0;
function ledger(): { ledger: ResourceLedger; file: string } {
  const file = path.join(work, `resources-${++ledgers}.jsonl`);
  return { ledger: new ResourceLedger(file), file };
}

async function start(options: Omit<Parameters<typeof ServiceProcesses.start>[0], 'runId' | 'ledger' | 'environment'> & { version?: string }, l = ledger()) {
  const launch = await ServiceProcesses.start(
    { runId: 'test-run', ledger: l.ledger, environment: { databaseUrl: db.url, version: options.version ?? '4.4.0', workerPollMs: 100 }, readyTimeoutMs: 30_000, ...options },
    (x) => launches.push(x),
  );
  return { launch, ...l };
}

const alive = (file: string) => readResources(file).filter((r) => r.kind === 'process').filter((r) => recordedProcessAlive(r.pid, r.match));
const environOf = (pid: number) => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

describe('TrustStram as plain processes (real processes, real PostgreSQL)', () => {
  it('starts N processes of a mode from the bundle on loopback ports, healthy, recorded in the ledger; stop leaves nothing', async () => {
    process.env.DRILL_TEST_HARNESS_SECRET = 'must-not-leak';
    let started;
    try {
      started = await start({ mode: 'api', replicas: 2 });
    } finally {
      delete process.env.DRILL_TEST_HARNESS_SECRET;
    }
    const { launch, file } = started;
    expect(launch.instances.map((i) => i.name)).toEqual(['truststream-api-1', 'truststream-api-2']);
    for (const instance of launch.instances) {
      const health = await fetch(`${instance.url}/health`);
      expect(health.status).toBe(200);
      expect(instance.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // The environment is exactly what the launcher chose: nothing of the harness's own.
      const env = environOf(instance.process.pid);
      expect(Object.keys(env).sort()).toEqual(['BIND', 'COLOUR', 'DATABASE_URL', 'LOG_LEVEL', 'MODE', 'PATH', 'PORT', 'READ_ONLY_MODE', 'REGION', 'VERSION', 'WORKER_POLL_MS']);
      expect(env).toMatchObject({ BIND: '127.0.0.1', PORT: String(instance.port), VERSION: '4.4.0', MODE: 'api' });
      expect(readFileSync(instance.logFile, 'utf8')).toMatch(/"msg":"listening"/);
    }
    const recorded = readResources(file);
    expect(recorded.filter((r) => r.kind === 'process').map((r) => (r.kind === 'process' ? r.pid : 0))).toEqual(launch.pids);
    expect(recorded).toContainEqual({ kind: 'temp-dir', path: launch.dir });
    expect(alive(file)).toHaveLength(2);

    await launch.stop();
    expect(alive(file)).toEqual([]);
    expect(existsSync(launch.dir)).toBe(false);
    // Stopped by SIGTERM, gracefully: each exited 0.
    expect(launch.instances.map((i) => i.process.exit)).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);
  });

  it('a release that exits at start fails the launch with its log, and leaves no process', async () => {
    const l = ledger();
    await expect(start({ mode: 'api', version: '4.4.1' }, l)).rejects.toMatchObject({
      code: 'SERVICE_NOT_READY',
      message: expect.stringMatching(/truststream-api-1 exited during start-up \(code 1[\s\S]*release 4.4.1 failed to start/),
    });
    expect(readResources(l.file).some((r) => r.kind === 'process')).toBe(true);
    expect(alive(l.file)).toEqual([]);
  });

  it('a release that never becomes healthy times out with the last answer; `readiness: livez` starts it anyway', async () => {
    const l = ledger();
    await expect(start({ mode: 'api', version: '4.4.2', readyTimeoutMs: 2_000 }, l)).rejects.toMatchObject({
      code: 'SERVICE_NOT_READY',
      message: expect.stringMatching(/did not become healthy[\s\S]*HTTP 503[\s\S]*schema_mismatch/),
    });
    expect(alive(l.file)).toEqual([]);
    const { launch, file } = await start({ mode: 'api', version: '4.4.2', readiness: 'livez' });
    expect((await fetch(`${launch.instances[0]!.url}/health`)).status).toBe(503);
    await launch.stop();
    expect(alive(file)).toEqual([]);
  });

  it('what a killed drill left is reaped from the ledger', async () => {
    const { launch, file } = await start({ mode: 'worker', replicas: 2, logDir: path.join(work, 'kept-logs') });
    expect(alive(file)).toHaveLength(2);
    const reaped = await reapResources(file);
    expect(reaped.filter((r) => r.startsWith('process truststream-worker-'))).toHaveLength(2);
    expect(alive(file)).toEqual([]);
    expect(existsSync(launch.dir)).toBe(false);
    // Logs written outside the temp dir stay.
    expect(readFileSync(path.join(work, 'kept-logs', 'truststream-worker-1.log'), 'utf8')).toMatch(/"mode":"worker"/);
    await launch.stop();
  });

  it('runs the source through tsx when asked (DRILL_SUT_FROM_SOURCE=1 sets this source)', async () => {
    const { launch, file } = await start({ mode: 'scheduler', source: { kind: 'source' } });
    const health = (await (await fetch(`${launch.instances[0]!.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', mode: 'scheduler' });
    expect(readFileSync(`/proc/${launch.pids[0]}/cmdline`, 'utf8')).toContain('sut/truststream/src/main.ts');
    await launch.stop();
    expect(alive(file)).toEqual([]);
  });
});
