import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../../sut/truststream/test/support/test-database.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { StepFailedError } from '../../src/engine/errors.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { clockSync } from '../../src/recovery/clock-sync.js';
import type { RecoveryStep } from '../../src/scenario/schema.js';
import { requireLibfaketime } from '../../src/targets/process/libfaketime.js';
import { PlainService } from '../../src/targets/service/plain-service.js';
import type { RestartOptions } from '../../src/targets/service/types.js';

// clock-sync against the real service as plain processes, started two hours ahead with the real
// libfaketime (the faketime package npm run setup installs), and real PostgreSQL. The negative
// control is an NTP fix that did not take: the processes are restarted, but the restart keeps the
// host's wrong clock. The only stand-in is that restart; the Date headers read are the processes' own.
let db: TestDatabase;
let work: string;
let service: PlainService | undefined;
const step = { step: 'clock-sync' } as Extract<RecoveryStep, { step: 'clock-sync' }>;
const TWO_HOURS = 7_200_000;

beforeAll(async () => {
  db = await startTestDatabase('test-clock-sync');
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-clock-sync-'));
  service = await PlainService.start(
    {
      runId: 'test-clock-sync',
      ledger: new ResourceLedger(path.join(work, 'resources.jsonl')),
      version: '4.4.0',
      replicas: { api: 1, worker: 1, scheduler: 0, reader: 0 },
      database: db.connection,
      token: await db.token('drill-test'),
      readyTimeoutMs: 30_000,
      logDir: path.join(work, 'logs'),
    },
    (s) => (service = s),
  );
  // The fault, as clock-skew does it: every process restarted with the host clock two hours ahead.
  await service.restart({ clock: { offsetMs: TWO_HOURS, library: requireLibfaketime() } });
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await db?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ctxWith = (s: unknown) => ({ service: s, signal: new AbortController().signal }) as unknown as DrillContext;

describe('clock-sync (real service processes, real libfaketime, real PostgreSQL)', () => {
  it('negative control: the processes are restarted but their clock stays +2h; the postcondition fails the step naming each process and its skew', { timeout: 120_000 }, async () => {
    const real = service!;
    // The operator's restart happened; the host's clock was not fixed (the clock change is dropped).
    const ntpNotFixed = {
      description: real.description,
      restart: (options: RestartOptions) => real.restart({ ...options, clock: undefined }),
      metricsEndpoints: () => real.metricsEndpoints(),
    };
    const pidsBefore = real.instances().map((i) => i.pid);
    const error = await clockSync(ctxWith(ntpNotFixed), step).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as StepFailedError).code).toBe('CLOCK_STILL_SKEWED');
    const message = (error as StepFailedError).message;
    for (const name of ['truststream-api-1', 'truststream-worker-1']) {
      expect(message).toMatch(new RegExp(`${name} is at least \\+1h59m5\\d[.\\d]*s ahead of the drill's clock \\(Date: [^)]+\\)`));
    }
    // Really restarted (new processes), and really still skewed.
    expect(real.instances().map((i) => i.pid).some((pid) => pidsBefore.includes(pid))).toBe(false);
    expect(real.clockOffsetMs).toBe(TWO_HOURS);
  });

  it('the same step on the same processes with the clock fixed passes: every process within 2 s', { timeout: 120_000 }, async () => {
    const out = await clockSync(ctxWith(service!), step);
    expect(out).toMatchObject({ clock: { from: '+2h', to: '+0ms' } });
    const readings = out.readings as Array<{ endpoint: string; offsetLowMs: number; offsetHighMs: number }>;
    expect(readings.map((r) => r.endpoint).sort()).toEqual(['truststream-api-1', 'truststream-worker-1']);
    for (const r of readings) expect(r.offsetLowMs <= 2000 && r.offsetHighMs >= -2000).toBe(true);
  });
});
