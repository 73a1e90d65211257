import type { RecoveredLedger, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { CANARY_TABLE } from './dataset.js';
import { withClient } from '../targets/postgres/with-client.js';

/** Reads the canary rows that exist on an instance, with whether each payload still matches its checksum. */
export async function readLedger(connection: ConnectionInfo, instance: string, at: () => Stamp): Promise<RecoveredLedger> {
  return withClient(connection, async (c) => {
    const { rows } = await c.query<{ id: string; epoch: number; ok: boolean; server_ts: Date }>(
      `select id::text, epoch, encode(sha256(convert_to(payload, 'UTF8')), 'hex') = checksum as ok, server_ts
         from ${CANARY_TABLE} order by id`,
    );
    return { readAt: at(), instance, rows: rows.map((r) => ({ id: Number(r.id), epoch: r.epoch, checksumOk: r.ok, committedAt: r.server_ts.toISOString() })) };
  });
}
