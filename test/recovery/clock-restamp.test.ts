import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { StepFailedError } from '../../src/engine/errors.js';
import { clockRestamp } from '../../src/recovery/clock-restamp.js';
import type { RecoveryStep } from '../../src/scenario/schema.js';
import { drillDatabase, sql, type DrillDatabase } from '../injectors/helpers.js';

// clock-restamp against real PostgreSQL: service transfers (ids from 1e9) stamped two hours late
// beside their outbox entries, re-stamped; and its read-back postcondition made to fire by
// something on the table that keeps a row wrong or rewrites it after the re-stamp.
let db: DrillDatabase;
const step = { step: 'clock-restamp', within: 2000, timeout: 60_000 } as Extract<RecoveryStep, { step: 'clock-restamp' }>;
const BASE = 1_000_000_000;

beforeAll(async () => {
  db = await drillDatabase('test-clock-restamp', { accounts: 20, transfers: 100 });
});
afterAll(async () => {
  await db?.dispose();
});

/**
 * Fresh rows for each test: BASE+1..+4 (one fixed instant) stamped two hours after their outbox entry (release 4.4.5
 * under a +2h skew), BASE+5..+6 right, BASE+7 without an outbox entry. No trigger on transfers.
 */
beforeEach(async () => {
  const p = db.deployment.primary;
  await sql(p, 'drop trigger if exists keep_created_at on transfers; drop trigger if exists nudge_created_at on transfers');
  await sql(p, 'delete from transfer_queue where transfer_id >= $1', [BASE]);
  await sql(p, 'delete from transfers where id >= $1', [BASE]);
  await sql(
    p,
    `insert into transfers (id, from_account, to_account, amount, created_at)
     select $1::bigint + n, 1, 2, 1, timestamptz '2026-12-01 12:00:00+00' + case when n <= 4 then interval '2 hours' else interval '0' end
       from generate_series(1, 7) n`,
    [BASE],
  );
  await sql(p, `insert into transfer_queue (transfer_id, enqueued_at) select $1::bigint + n, timestamptz '2026-12-01 12:00:00+00' from generate_series(1, 6) n`, [BASE]);
});

async function storedOffsetsMs(): Promise<Record<string, number>> {
  const rows = await sql<{ id: string; off: string }>(
    db.deployment.primary,
    'select t.id::text, round(extract(epoch from t.created_at - q.enqueued_at) * 1000)::text as off from transfers t join transfer_queue q on q.transfer_id = t.id where t.id >= $1 order by t.id',
    [BASE],
  );
  return Object.fromEntries(rows.map((r) => [r.id, Number(r.off)]));
}

async function failure(): Promise<StepFailedError> {
  const error = await clockRestamp(db.ctx as DrillContext, step).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepFailedError);
  return error as StepFailedError;
}

describe('clock-restamp (real PostgreSQL)', () => {
  it('re-stamps the transfers stamped two hours late from their outbox entries; the read-back finds every row right', async () => {
    const out = await clockRestamp(db.ctx as DrillContext, step);
    expect(out).toMatchObject({ restamped: 4, ids: { first: BASE + 1, last: BASE + 4 }, readBack: { checked: 6, withoutOutbox: 1 } });
    const offset = out.offsetMs as { min: number; max: number };
    expect(offset.min).toBe(7_200_000);
    expect(offset.max).toBe(7_200_000);
    expect(Object.values(await storedOffsetsMs())).toEqual([0, 0, 0, 0, 0, 0]);
    // Run again: nothing left to re-stamp.
    expect(await clockRestamp(db.ctx as DrillContext, step)).toMatchObject({ restamped: 0, readBack: { checked: 6 } });
  });

  it('negative control: a trigger that keeps created_at as it was makes the UPDATE a no-op; the read-back fails the step naming the four rows', async () => {
    await sql(
      db.deployment.primary,
      `create or replace function drill_test_keep_created_at() returns trigger language plpgsql as $$ begin new.created_at := old.created_at; return new; end $$;
       create trigger keep_created_at before update on transfers for each row execute function drill_test_keep_created_at()`,
    );
    const error = await failure();
    expect(error.code).toBe('TIMESTAMPS_STILL_WRONG');
    expect(error.message).toContain(`4 of 6 service transfers still carry a created_at more than 2 s from their outbox entry's enqueued_at (ids ${BASE + 1}, ${BASE + 2}, ${BASE + 3}, ${BASE + 4})`);
    expect(error.message).not.toContain('no longer hold');
    // What the step says is what is stored: the four rows are still two hours off.
    expect(Object.values(await storedOffsetsMs())).toEqual([7_200_000, 7_200_000, 7_200_000, 7_200_000, 0, 0]);
  });

  it('negative control: a trigger that rewrites created_at after the re-stamp (by 1 s, inside the tolerance) fails the step on the rows that no longer hold what the UPDATE wrote', async () => {
    await sql(
      db.deployment.primary,
      `create or replace function drill_test_nudge_created_at() returns trigger language plpgsql as $$
         begin
           if pg_trigger_depth() = 1 then update transfers set created_at = created_at + interval '1 second' where id = new.id; end if;
           return null;
         end $$;
       create trigger nudge_created_at after update on transfers for each row execute function drill_test_nudge_created_at()`,
    );
    const error = await failure();
    expect(error.code).toBe('TIMESTAMPS_STILL_WRONG');
    expect(error.message).toContain(`4 re-stamped transfers no longer hold the created_at the re-stamp wrote (ids ${BASE + 1}, ${BASE + 2}, ${BASE + 3}, ${BASE + 4})`);
    // Within the tolerance of the outbox: only the comparison with what the UPDATE wrote sees it.
    expect(error.message).not.toContain('still carry');
    expect(Object.values(await storedOffsetsMs())).toEqual([1000, 1000, 1000, 1000, 0, 0]);
  });
});
