import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import type { Fault } from '../scenario/schema.js';
import { requireFaultControllers } from '../targets/process/cgroup-v1.js';

type Injector<T extends Fault['type']> = (ctx: DrillContext, fault: Extract<Fault, { type: T }>) => Promise<FaultHandle>;

/**
 * One entry per fault type of the scenario schema; the compiler checks none is missing. Each
 * injector's module is imported when a drill first needs it (loadInjectors, before the fault): a
 * PostgreSQL drill does not load the Kubernetes client.
 */
const injectors: { [T in Fault['type']]: () => Promise<Injector<T>> } = {
  'pg-page-corruption': async () => (await import('./pg-page-corruption.js')).injectPageCorruption,
  'pg-primary-crash': async () => (await import('./pg-primary-crash.js')).injectPrimaryCrash,
  'pg-replication-lag': async () => (await import('./pg-replication-lag.js')).injectReplicationLag,
  'pg-bad-migration': async () => (await import('./pg-bad-migration.js')).injectBadMigration,
  'pg-line-pointer-corruption': async () => (await import('./pg-line-pointer-corruption.js')).injectLinePointerCorruption,
  'pg-relation-file-deleted': async () => (await import('./pg-relation-file-deleted.js')).injectRelationFileDeleted,
  'pg-index-corruption': async () => (await import('./pg-index-corruption.js')).injectIndexCorruption,
  'pg-fat-finger': async () => (await import('./pg-fat-finger.js')).injectFatFinger,
  'k8s-pod-kill': async () => (await import('./k8s-pod-kill.js')).injectPodKill,
  'k8s-bad-release': async () => (await import('./k8s-bad-release.js')).injectBadRelease,
  'k8s-scale-to-zero': async () => (await import('./k8s-scale-to-zero.js')).injectScaleToZero,
  'k8s-node-failure': async () => (await import('./k8s-node-failure.js')).injectNodeFailure,
  'credential-leak': async () => (await import('./credential-leak.js')).injectCredentialLeak,
  'region-outage': async () => (await import('./region-outage.js')).injectRegionOutage,
  'region-partition': async () => (await import('./region-partition.js')).injectRegionPartition,
  'network-latency': async () => (await import('./network-fault.js')).injectNetworkFault,
  'network-bandwidth': async () => (await import('./network-fault.js')).injectNetworkFault,
  'network-reset': async () => (await import('./network-fault.js')).injectNetworkFault,
  'network-timeout': async () => (await import('./network-fault.js')).injectNetworkFault,
  'network-loss': async () => (await import('./network-fault.js')).injectNetworkFault,
  'network-partition': async () => (await import('./network-fault.js')).injectNetworkFault,
  'disk-full': async () => (await import('./disk-full.js')).injectDiskFull,
  'wal-archive-stuck': async () => (await import('./wal-archive-stuck.js')).injectWalArchiveStuck,
  'clock-skew': async () => (await import('./clock-skew.js')).injectClockSkew,
  'cpu-stress': async () => (await import('./cpu-stress.js')).injectCpuStress,
  'memory-stress': async () => (await import('./memory-stress.js')).injectMemoryStress,
  'disk-io-errors': async () => (await import('./disk-io-errors.js')).injectDiskIoErrors,
};

/** Imports the modules of these faults' injectors. */
export async function loadInjectors(faults: readonly Pick<Fault, 'type'>[]): Promise<void> {
  await Promise.all([...new Set(faults.map((f) => f.type))].map((type) => injectors[type]()));
}

export async function inject(ctx: DrillContext, fault: Fault): Promise<FaultHandle> {
  const injector = (await injectors[fault.type]()) as Injector<Fault['type']>;
  return injector(ctx, fault);
}

/**
 * What a fault needs of this machine beyond its targets, checked before anything is provisioned so
 * a drill that cannot inject stops at once (exit 3): resource faults need a writable cgroup v1
 * controller. Faults whose needs come with a target (a mount, a proxy) are checked by it.
 */
export function machineNeeds(fault: Fault): void {
  requireFaultControllers([fault]);
}
