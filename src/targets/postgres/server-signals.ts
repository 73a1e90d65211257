import type { PgInstance } from './types.js';

/**
 * The processes of a server on this machine, for a fault that takes the whole server down at once
 * as a lost machine would: no shutdown, no chance for a backend to finish a reply. Only PostgreSQL
 * processes working in the server's data directory (src/targets/postgres/data-dir-processes.ts): a
 * stale postmaster.pid's pid, now another program's, is never among them. `postmaster` is
 * undefined when none runs (its orphaned backends may still); both are empty where the server's
 * processes are out of reach (a container, an external server).
 */
export function serverProcesses(instance: PgInstance): { postmaster: number | undefined; others: number[] } {
  const local = instance.localProcesses;
  if (!local) return { postmaster: undefined, others: [] };
  const postmaster = local.postmaster();
  return { postmaster, others: local.others(postmaster) };
}

/** The same as one list, postmaster first. */
export function serverPids(instance: PgInstance): number[] {
  const { postmaster, others } = serverProcesses(instance);
  return [...(postmaster === undefined ? [] : [postmaster]), ...others];
}
