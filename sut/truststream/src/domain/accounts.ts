import type { Queryable } from '../database.js';

export interface Account {
  id: number;
  owner: string;
  /** The seeded `accounts.balance`, never changed by the service. */
  openingBalance: string;
  /** Opening balance + incoming − outgoing transfers. */
  balance: string;
}

const BALANCE = `a.balance
  + coalesce((select sum(amount) from transfers where to_account = a.id), 0)
  - coalesce((select sum(amount) from transfers where from_account = a.id), 0)`;

export async function findAccount(db: Queryable, id: number): Promise<Account | undefined> {
  const { rows } = await db.query<{ id: string; owner: string; opening: string; balance: string }>(
    `select a.id::text, a.owner, a.balance::text as opening, (${BALANCE})::text as balance from accounts a where a.id = $1`,
    [id],
  );
  const r = rows[0];
  return r ? { id: Number(r.id), owner: r.owner, openingBalance: r.opening, balance: r.balance } : undefined;
}

/** The account's computed balance as a decimal string, or undefined when there is no such account. */
export async function computedBalance(db: Queryable, id: number): Promise<string | undefined> {
  return (await findAccount(db, id))?.balance;
}
