import type { Queryable } from '../database.js';
import type { TransferInput } from './transfer-input.js';
import { computedBalance } from './accounts.js';

export interface Transfer {
  id: number;
  fromAccount: number;
  toAccount: number;
  amount: string;
  reference: string | null;
  createdAt: string;
  /** The worker's queue entry; null for transfers the service did not create (the seeded data set). */
  queue: { enqueuedAt: string; processedAt: string | null; outcome: string | null; staleAt: string | null } | null;
}

export type CreateOutcome =
  | { kind: 'created'; transfer: Transfer }
  /** The reference was used before with the same accounts and amount: the earlier transfer, unchanged. */
  | { kind: 'replayed'; transfer: Transfer }
  /** The reference was used before for a different transfer. */
  | { kind: 'reference-conflict'; transfer: Transfer }
  | { kind: 'insufficient-funds'; balance: string }
  | { kind: 'account-not-found'; account: number };

const TRANSFER_COLUMNS = `t.id::text, t.from_account::text, t.to_account::text, t.amount::text, t.reference, t.created_at,
       q.enqueued_at, q.processed_at, q.outcome, q.stale_at`;
const TRANSFER_FROM = 'transfers t left join transfer_queue q on q.transfer_id = t.id';

interface TransferRow {
  id: string;
  from_account: string;
  to_account: string;
  amount: string;
  reference: string | null;
  created_at: Date;
  enqueued_at: Date | null;
  processed_at: Date | null;
  outcome: string | null;
  stale_at: Date | null;
}

function toTransfer(r: TransferRow): Transfer {
  return {
    id: Number(r.id),
    fromAccount: Number(r.from_account),
    toAccount: Number(r.to_account),
    amount: r.amount,
    reference: r.reference,
    createdAt: r.created_at.toISOString(),
    queue: r.enqueued_at
      ? { enqueuedAt: r.enqueued_at.toISOString(), processedAt: r.processed_at?.toISOString() ?? null, outcome: r.outcome, staleAt: r.stale_at?.toISOString() ?? null }
      : null,
  };
}

export async function findTransfer(db: Queryable, id: number): Promise<Transfer | undefined> {
  const { rows } = await db.query<TransferRow>(`select ${TRANSFER_COLUMNS} from ${TRANSFER_FROM} where t.id = $1`, [id]);
  return rows[0] ? toTransfer(rows[0]) : undefined;
}

async function byReference(db: Queryable, input: TransferInput): Promise<CreateOutcome | undefined> {
  const { rows } = await db.query<TransferRow & { same: boolean }>(
    `select (t.from_account = $2 and t.to_account = $3 and t.amount = $4::numeric) as same, ${TRANSFER_COLUMNS}
       from ${TRANSFER_FROM} where t.reference = $1`,
    [input.reference, input.fromAccount, input.toAccount, input.amount],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { kind: row.same ? 'replayed' : 'reference-conflict', transfer: toTransfer(row) };
}

/**
 * Creates a transfer and its queue item in the caller's transaction; the caller commits, and only
 * then is the write acknowledged. Seed rows are never updated: a balance is computed from the
 * opening balance and the transfers, and the debited account is serialised by an advisory lock
 * (not a row lock, which would write to the seeded row) so two concurrent transfers cannot both
 * spend the same money. `extraColumn` is a broken release's column that no migration created;
 * `createdAt`, a release that stamps with its own clock (otherwise the database's).
 */
export async function createTransfer(tx: Queryable, input: TransferInput, extraColumn?: string, createdAt?: Date): Promise<CreateOutcome> {
  await tx.query("select pg_advisory_xact_lock(hashtextextended('truststream.account:' || $1::text, 0))", [input.fromAccount]);
  if (input.reference !== undefined) {
    const earlier = await byReference(tx, input);
    if (earlier) return earlier;
  }
  const { rows: found } = await tx.query<{ id: string }>('select id::text from accounts where id = any($1::bigint[])', [[input.fromAccount, input.toAccount]]);
  for (const account of [input.fromAccount, input.toAccount]) {
    if (!found.some((r) => Number(r.id) === account)) return { kind: 'account-not-found', account };
  }
  const balance = await computedBalance(tx, input.fromAccount);
  const { rows: enough } = await tx.query<{ ok: boolean }>('select $1::numeric >= $2::numeric as ok', [balance, input.amount]);
  if (!enough[0]!.ok) return { kind: 'insufficient-funds', balance: balance! };

  // Ids of service-created transfers come from their own sequence starting at 1e9, so a harness
  // can tell them from the seeded rows (ids below 1e9).
  const { rows: ids } = await tx.query<{ id: string }>("select nextval('service_transfer_id_seq')::text as id");
  const id = ids[0]!.id;
  const columns = ['id', 'from_account', 'to_account', 'amount', 'created_at', 'reference', ...(extraColumn ? [extraColumn] : [])];
  const values = ['$1', '$2', '$3', '$4', createdAt ? '$6::timestamptz' : 'clock_timestamp()', '$5', ...(extraColumn ? ['0'] : [])];
  const { rowCount } = await tx.query(
    `insert into transfers (${columns.join(', ')}) values (${values.join(', ')}) on conflict (reference) do nothing`,
    [id, input.fromAccount, input.toAccount, input.amount, input.reference ?? `TR-${id}`, ...(createdAt ? [createdAt.toISOString()] : [])],
  );
  if (rowCount === 0) {
    // The same reference committed by a concurrent request (from another account, so not behind our lock).
    return (await byReference(tx, input))!;
  }
  await tx.query('insert into transfer_queue (transfer_id) values ($1)', [id]);
  return { kind: 'created', transfer: (await findTransfer(tx, Number(id)))! };
}
