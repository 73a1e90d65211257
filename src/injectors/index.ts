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
};

export function inject(ctx: DrillContext, fault: Fault): Promise<FaultHandle> {
  const injector = injectors[fault.type] as (ctx: DrillContext, fault: Fault) => Promise<FaultHandle>;
  return injector(ctx, fault);
}
