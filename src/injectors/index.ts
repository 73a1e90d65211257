import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import type { Fault } from '../scenario/schema.js';
import { injectPageCorruption } from './pg-page-corruption.js';
import { injectPrimaryCrash } from './pg-primary-crash.js';
import { injectReplicationLag } from './pg-replication-lag.js';
import { injectBadMigration } from './pg-bad-migration.js';
import { injectLinePointerCorruption } from './pg-line-pointer-corruption.js';
import { injectRelationFileDeleted } from './pg-relation-file-deleted.js';
import { injectIndexCorruption } from './pg-index-corruption.js';
import { injectFatFinger } from './pg-fat-finger.js';
import { injectPodKill } from './k8s-pod-kill.js';
import { injectBadRelease } from './k8s-bad-release.js';
import { injectScaleToZero } from './k8s-scale-to-zero.js';
import { injectNodeFailure } from './k8s-node-failure.js';
import { injectCredentialLeak } from './credential-leak.js';
import { injectRegionOutage } from './region-outage.js';
import { injectRegionPartition } from './region-partition.js';
import { injectNetworkFault } from './network-fault.js';
import { injectDiskFull } from './disk-full.js';
import { injectWalArchiveStuck } from './wal-archive-stuck.js';
import { injectClockSkew } from './clock-skew.js';
import { injectCpuStress } from './cpu-stress.js';
import { injectMemoryStress } from './memory-stress.js';
import { requireFaultControllers } from '../targets/process/cgroup-v1.js';
import { injectDiskIoErrors } from './disk-io-errors.js';

/** One entry per fault type of the scenario schema; the compiler checks none is missing. */
const injectors: { [T in Fault['type']]: (ctx: DrillContext, fault: Extract<Fault, { type: T }>) => Promise<FaultHandle> } = {
  'pg-page-corruption': injectPageCorruption,
  'pg-primary-crash': injectPrimaryCrash,
  'pg-replication-lag': injectReplicationLag,
  'pg-bad-migration': injectBadMigration,
  'pg-line-pointer-corruption': injectLinePointerCorruption,
  'pg-relation-file-deleted': injectRelationFileDeleted,
  'pg-index-corruption': injectIndexCorruption,
  'pg-fat-finger': injectFatFinger,
  'k8s-pod-kill': injectPodKill,
  'k8s-bad-release': injectBadRelease,
  'k8s-scale-to-zero': injectScaleToZero,
  'k8s-node-failure': injectNodeFailure,
  'credential-leak': injectCredentialLeak,
  'region-outage': injectRegionOutage,
  'region-partition': injectRegionPartition,
  'network-latency': injectNetworkFault,
  'network-bandwidth': injectNetworkFault,
  'network-reset': injectNetworkFault,
  'network-timeout': injectNetworkFault,
  'network-loss': injectNetworkFault,
  'network-partition': injectNetworkFault,
  'disk-full': injectDiskFull,
  'wal-archive-stuck': injectWalArchiveStuck,
  'clock-skew': injectClockSkew,
  'cpu-stress': injectCpuStress,
  'memory-stress': injectMemoryStress,
  'disk-io-errors': injectDiskIoErrors,
};

export function inject(ctx: DrillContext, fault: Fault): Promise<FaultHandle> {
  const injector = injectors[fault.type] as (ctx: DrillContext, fault: Fault) => Promise<FaultHandle>;
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
