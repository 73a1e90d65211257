/**
 * Rows the workload owns, apart from the seeded data set: ids from 1 000 000 000 up. The service
 * numbers the transfers it creates from there (migration 007), and the drill opens its own
 * synthetic-monitoring accounts there, so the seeded rows (ids below) are never touched by the
 * workload and stay comparable with the snapshot taken before the fault.
 */
export const WORKLOAD_ID_FLOOR = 1_000_000_000;

/** Accounts the canary and the smoke test move money between (large opening balances: never short of funds). */
export const WORKLOAD_ACCOUNTS = {
  canaryFrom: WORKLOAD_ID_FLOOR + 1,
  canaryTo: WORKLOAD_ID_FLOOR + 2,
  smokeFrom: WORKLOAD_ID_FLOOR + 3,
  smokeTo: WORKLOAD_ID_FLOOR + 4,
} as const;

export const WORKLOAD_OPENING_BALANCE = '1000000.00';

/** The SQL that opens them (run once, when the data set is seeded). */
export const WORKLOAD_ACCOUNTS_SQL = `insert into accounts (id, owner, balance) values ${Object.entries(WORKLOAD_ACCOUNTS)
  .map(([role, id]) => `(${id}, 'drill-${role.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}', ${WORKLOAD_OPENING_BALANCE})`)
  .join(', ')}`;
