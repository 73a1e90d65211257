import { startClock, type Clock } from '../src/engine/clock.js';
import { ResourceLedger } from '../src/engine/resource-ledger.js';
import { NativeDeployment } from '../src/targets/postgres/native-deployment.js';
import { withClient } from '../src/targets/postgres/with-client.js';

export interface Fixture {
  deployment: NativeDeployment;
  clock: Clock;
}

/** A native deployment whose `bench` table holds about `megabytes` of heap. */
export async function pgFixture(runId: string, megabytes: number): Promise<Fixture> {
  const clock = startClock();
  let deployment: NativeDeployment | undefined;
  try {
    deployment = await NativeDeployment.create({ runId, clock, ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
    // ~130 bytes a row on disk with tuple overhead: 8000 rows a MB.
    const rows = megabytes * 8000;
    await withClient(deployment.primary.connection, async (c) => {
      await c.query('create table bench (id bigint primary key, payload text not null, n int not null)');
      for (let from = 1; from <= rows; from += 1_000_000) {
        const to = Math.min(rows, from + 999_999);
        await c.query(`insert into bench select g, md5(g::text) || md5((g * 7)::text), g % 1000 from generate_series(${from}, ${to}) g`);
      }
      await c.query('checkpoint');
    }, 3_600_000);
    return { deployment, clock };
  } catch (error) {
    await deployment?.dispose();
    throw error;
  }
}

export async function relationMegabytes(fixture: Fixture): Promise<number> {
  return withClient(fixture.deployment.primary.connection, async (c) =>
    Number((await c.query<{ mb: string }>("select (pg_database_size('postgres') / 1048576.0)::text as mb")).rows[0]!.mb),
  );
}
