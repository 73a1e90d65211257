import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { resumeWrites } from '../../src/recovery/resume-writes.js';
import { stopWrites } from '../../src/recovery/stop-writes.js';
import { writesRefused } from '../../src/recovery/write-probe.js';
import { CanaryWriter } from '../../src/workload/canary-writer.js';
import { drillDatabase, sql, type DrillDatabase } from '../injectors/helpers.js';

let db: DrillDatabase;
let writer: CanaryWriter;
let acks = 0;

beforeAll(async () => {
  db = await drillDatabase('test-read-only');
  writer = new CanaryWriter({ router: db.router, clock: db.ctx.clock, intervalMs: 50, onAck: () => acks++, onFailure: () => undefined });
  (db.ctx as { writer: CanaryWriter }).writer = writer;
  writer.start();
});
afterAll(async () => {
  await writer.stop();
  await db.dispose();
});

/** Whether the writer's acknowledged writes pass `count` within 10 s. */
async function acksAbove(count: number): Promise<boolean> {
  for (let waited = 0; waited < 10_000 && acks <= count; waited += 50) await sleep(50);
  return acks > count;
}

describe('read-only mode (real PostgreSQL)', () => {
  it('stop-writes makes the database refuse writes and pauses the writer; resume-writes undoes both', async () => {
    const ctx = db.ctx as DrillContext;
    // The writer's first connection (SCRAM authentication) can take a while on a loaded machine.
    expect(await acksAbove(0)).toBe(true);

    const stopped = await stopWrites(ctx);
    expect(stopped).toMatchObject({ readOnly: true, writerPaused: true });
    expect(await writesRefused(db.router.connection)).toBe(true);
    const pausedAt = acks;
    await sleep(300);
    expect(acks).toBe(pausedAt);

    const resumed = await resumeWrites(ctx);
    expect(resumed).toMatchObject({ readOnly: false, writerResumed: true });
    expect(await writesRefused(db.router.connection)).toBe(false);
    expect(await acksAbove(pausedAt)).toBe(true);
    // The probe leaves nothing behind.
    expect(await sql(db.deployment.primary, "select 1 from pg_class where relname = 'drill_write_probe'")).toEqual([]);
  });
});
