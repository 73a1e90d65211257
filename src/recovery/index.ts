import type { DrillContext } from '../engine/drill-context.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { assessCorruption } from './assess-corruption.js';
import { pitrRestore } from './pitr-restore.js';
import { restoreBaseBackup } from './restore-base-backup.js';
import { resumeWrites } from './resume-writes.js';
import { stopWrites } from './stop-writes.js';
import { switchWorkload } from './switch-workload.js';
import { promoteReplica } from './promote-replica.js';
import { fenceOldPrimary } from './fence-old-primary.js';
import { migrationStatus } from './migration-status.js';
import { migrationRollback } from './migration-rollback.js';
import { migrationCurrent } from './migration-current.js';
import { takeBaseBackup } from './take-base-backup.js';
import { reindex } from './reindex.js';
import { k8sIncidentAssessment } from './k8s-incident-assessment.js';
import { k8sRolloutUndo } from './k8s-rollout-undo.js';
import { k8sRolloutStatus } from './k8s-rollout-status.js';
import { k8sBlueGreenSwitch } from './k8s-blue-green-switch.js';
import { k8sRolloutRestart } from './k8s-rollout-restart.js';
import { k8sConfigMapPatch } from './k8s-configmap-patch.js';
import { k8sSecretPatch } from './k8s-secret-patch.js';
import { k8sScale } from './k8s-scale.js';
import { k8sAutoRollback } from './k8s-auto-rollback.js';
import { k8sCircuitBreaker } from './k8s-circuit-breaker.js';
import { k8sCordon } from './k8s-cordon.js';
import { k8sDrain } from './k8s-drain.js';
import { k8sDeleteNode } from './k8s-delete-node.js';
import { k8sReplaceNode } from './k8s-replace-node.js';
import { smokeStep } from './smoke.js';
import { serviceRestart } from './service-restart.js';
import { clockSync } from './clock-sync.js';
import { clockRestamp } from './clock-restamp.js';
import { revokeAllTokens } from './revoke-all-tokens.js';
import { dnsFailover } from './dns-failover.js';
import { activateDrSite } from './activate-dr-site.js';
import { verifyDr } from './verify-dr.js';
import { failback } from './failback.js';
import { healRegionPartition } from './heal-region-partition.js';
import { notify } from './notify.js';
import { removeNetworkFault } from './remove-network-fault.js';
import { waitStep } from './wait.js';
import { freeSpace } from './free-space.js';
import { pgRestart } from './pg-restart.js';
import { removeResourceLimit } from './remove-resource-limit.js';
import { fixArchiving } from './fix-archiving.js';
import { preserveForensics } from './preserve-forensics.js';
import { activateIncidentResponse } from './activate-incident-response.js';
import { enableEmergencyAccess } from './enable-emergency-access.js';
import { isolateCompromisedNodes } from './isolate-compromised-nodes.js';

type Procedure<S extends RecoveryStep['step']> = (ctx: DrillContext, step: Extract<RecoveryStep, { step: S }>) => Promise<Record<string, unknown>>;

/**
 * One entry per runbook procedure of the scenario schema; the compiler checks none is missing. A new
 * step kind also says which runbook procedures it performs, in runbook-performs.ts (`drill coverage`).
 */
const procedures: { [S in RecoveryStep['step']]: Procedure<S> } = {
  'assess-corruption': assessCorruption,
  'stop-writes': stopWrites,
  'resume-writes': resumeWrites,
  'pitr-restore': pitrRestore,
  'restore-base-backup': restoreBaseBackup,
  'switch-workload': switchWorkload,
  'promote-replica': promoteReplica,
  'fence-old-primary': fenceOldPrimary,
  'migration-status': migrationStatus,
  'migration-rollback': migrationRollback,
  'migration-current': migrationCurrent,
  'take-base-backup': takeBaseBackup,
  reindex,
  'k8s-incident-assessment': k8sIncidentAssessment,
  'k8s-rollout-undo': k8sRolloutUndo,
  'k8s-rollout-status': k8sRolloutStatus,
  'k8s-blue-green-switch': k8sBlueGreenSwitch,
  'k8s-rollout-restart': k8sRolloutRestart,
  'k8s-configmap-patch': k8sConfigMapPatch,
  'k8s-secret-patch': k8sSecretPatch,
  'k8s-scale': k8sScale,
  'k8s-auto-rollback': k8sAutoRollback,
  'k8s-circuit-breaker': k8sCircuitBreaker,
  'k8s-cordon': k8sCordon,
  'k8s-drain': k8sDrain,
  'k8s-delete-node': k8sDeleteNode,
  'k8s-replace-node': k8sReplaceNode,
  smoke: (ctx, step) => smokeStep(ctx, step, 'recover'),
  'service-restart': serviceRestart,
  'clock-sync': clockSync,
  'clock-restamp': clockRestamp,
  'revoke-all-tokens': revokeAllTokens,
  'preserve-forensics': preserveForensics,
  'activate-incident-response': activateIncidentResponse,
  'enable-emergency-access': enableEmergencyAccess,
  'isolate-compromised-nodes': isolateCompromisedNodes,
  'dns-failover': dnsFailover,
  'activate-dr-site': activateDrSite,
  'verify-dr': verifyDr,
  failback,
  'heal-region-partition': healRegionPartition,
  notify,
  'remove-network-fault': removeNetworkFault,
  wait: waitStep,
  'free-space': freeSpace,
  'pg-restart': pgRestart,
  'fix-archiving': fixArchiving,
  'remove-resource-limit': removeResourceLimit,
  // The person did the work (src/engine/manual-gate.ts waited for them); drill has nothing to do.
  manual: async () => ({}),
};

export function runProcedure(ctx: DrillContext, step: RecoveryStep): Promise<Record<string, unknown>> {
  const procedure = procedures[step.step] as Procedure<RecoveryStep['step']>;
  return procedure(ctx, step);
}

/** The runbook's wording for each procedure, for timelines and reports. */
export const PROCEDURE_TITLES: Record<RecoveryStep['step'], string> = {
  'assess-corruption': 'Identify corruption extent',
  'stop-writes': 'Stop write operations (read-only mode)',
  'resume-writes': 'Resume write operations (read-only mode off)',
  'pitr-restore': 'Restore from point-in-time backup',
  'restore-base-backup': 'Restore from backup (data loss confirmed)',
  'switch-workload': 'Update application connection to the restored instance',
  'promote-replica': 'Promote read replica to primary',
  'fence-old-primary': 'Fence the failed primary (never writable again)',
  'migration-status': 'Check migration status',
  'migration-rollback': 'Rollback database migrations',
  'migration-current': 'Verify schema state',
  'take-base-backup': 'Take a base backup',
  reindex: 'Rebuild damaged indexes (REINDEX)',
  'k8s-incident-assessment': 'Incident assessment (pods not running, rollout history)',
  'k8s-rollout-undo': 'Rollback to previous version (kubectl rollout undo)',
  'k8s-rollout-status': 'Monitor rollback progress (kubectl rollout status)',
  'k8s-blue-green-switch': 'Switch traffic to green environment',
  'k8s-rollout-restart': 'Restart instances (kubectl rollout restart)',
  'k8s-configmap-patch': 'Enable read-only mode (patch configmap)',
  'k8s-secret-patch': 'Update application connection strings (patch secret) and restart',
  'k8s-scale': 'Scale deployment (kubectl scale)',
  'k8s-auto-rollback': 'Automated rollback (health check with timeout, rollout undo, verify)',
  'k8s-circuit-breaker': 'Circuit breaker (health checks; trips the automated rollback)',
  'k8s-cordon': 'Cordon the unhealthy node',
  'k8s-drain': 'Drain the unhealthy node (kubectl drain)',
  'k8s-delete-node': 'Delete the unhealthy node (kubectl delete node)',
  'k8s-replace-node': 'Scale node group to replace nodes',
  smoke: 'Post-recovery smoke tests (basic functionality, user journey, integration)',
  'service-restart': 'Restart the service (deploy a release)',
  'clock-sync': 'Fix the host clock (NTP) and restart the service',
  'clock-restamp': 'Re-stamp the transfers a skewed clock stamped (from their outbox entries)',
  'revoke-all-tokens': 'Revoke all API tokens (--emergency)',
  'preserve-forensics': 'Preserve log evidence and create forensic snapshots',
  'activate-incident-response': 'Activate security incident response',
  'enable-emergency-access': 'Enable emergency access controls (break-glass access for the incident responder)',
  'isolate-compromised-nodes': 'Isolate affected systems (cordon and taint the compromised nodes, deny-all NetworkPolicy, evict)',
  'dns-failover': 'Switch DNS to the backup region (Route 53) and verify DNS propagation',
  'activate-dr-site': 'Activate disaster recovery site',
  'verify-dr': 'Verification steps (DR site health, database connectivity, functional tests against DR)',
  failback: 'Failback: rebuild the old primary as a replica of the DR primary and switch back',
  'heal-region-partition': 'The network between the regions recovers (the DR replica catches up)',
  notify: 'Stakeholder notification (send emergency alert)',
  'remove-network-fault': 'The network recovers (network faults on the link removed)',
  wait: 'Wait',
  'free-space': 'Free space on the full volume (remove the filler, or grow the volume)',
  'pg-restart': 'Restart the database server (crash recovery)',
  'fix-archiving': 'Repair WAL archiving and watch pg_wal shrink',
  'remove-resource-limit': 'Lift the database host\'s CPU and memory limits',
  manual: 'Manual step (done by a person)',
};
