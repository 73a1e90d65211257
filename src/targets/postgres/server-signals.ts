import type { PgInstance } from './types.js';

/**
 * Every process of a server on this machine (postmaster first, then its backends and workers),
 * for a fault that takes the whole server down at once as a lost machine would: no shutdown, no
 * chance for a backend to finish a reply. Empty where the server's processes are out of reach
 * (a container, an external server).
 */
export function serverPids(instance: PgInstance): number[] {
  const local = instance.localProcesses;
  if (!local) return [];
  const postmaster = local.postmasterPid();
  return [...(postmaster === undefined ? [] : [postmaster]), ...local.others(postmaster)];
}
