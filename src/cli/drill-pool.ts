import type { Scenario } from '../scenario/schema.js';

/**
 * `drill run --parallel N`: which drills may run side by side. Each PostgreSQL, service and region
 * drill has targets of its own (its own servers on kernel-chosen loopback ports, its own temp
 * dirs, ledger and run dir), so up to N run at once. A Kubernetes drill with a cluster of its own
 * runs alone: it starts a control plane with real nodes (or a kind cluster), which is what a
 * 2-core machine can hold, and drills reusing one cluster (DRILL_KUBECONFIG) may act on it as a
 * whole (a node killed). The exception: the drills shared-cluster-plan.ts lets share one control
 * plane started for the run form one batch of width N on it (`shared`).
 */
export function runsAlone(scenario: Scenario): boolean {
  return scenario.targets.kubernetes !== undefined;
}

export interface Batch {
  /** Positions in the run order. */
  indexes: number[];
  /** How many of them at once. */
  width: number;
  /** The Kubernetes drills that run on one control plane started for them (src/cli/shared-cluster-plan.ts). */
  sharedCluster?: true;
}

/**
 * The run order cut into batches: consecutive drills that may share the machine, and each drill
 * that runs alone. The drills in `shared` (at least two) form one batch on a shared control
 * plane, where the first of them would have run: the cluster runs only while they do.
 */
export function drillBatches(scenarios: readonly Scenario[], parallel: number, shared: readonly number[] = []): Batch[] {
  const batches: Batch[] = [];
  scenarios.forEach((scenario, i) => {
    const last = batches.at(-1);
    if (shared.includes(i)) {
      if (i === shared[0]) batches.push({ indexes: [...shared], width: parallel, sharedCluster: true });
    } else if (runsAlone(scenario) || parallel === 1) batches.push({ indexes: [i], width: 1 });
    else if (last && last.width > 1 && !last.sharedCluster) last.indexes.push(i);
    else batches.push({ indexes: [i], width: parallel });
  });
  return batches;
}

/** Runs `task` for every index, at most `width` at a time, starting them in order. */
export async function inPool(indexes: readonly number[], width: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) await task(indexes[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, indexes.length) }, worker));
}
