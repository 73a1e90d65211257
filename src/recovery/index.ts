import type { DrillContext } from '../engine/drill-context.js';
import type { RecoveryStep } from '../scenario/schema.js';

type Procedure<S extends RecoveryStep['step']> = (ctx: DrillContext, step: Extract<RecoveryStep, { step: S }>) => Promise<Record<string, unknown>>;
type ProcedureModule<S extends RecoveryStep['step']> = () => Promise<Procedure<S>>;

/**
 * One entry per runbook procedure of the scenario schema; the compiler checks none is missing. A new
 * step kind also says which runbook procedures it performs, in runbook-performs.ts (`drill coverage`).
 * Each procedure's module is imported when a drill first needs it (loadProcedures, before the
 * fault): a PostgreSQL drill does not load the Kubernetes client (half a second per drill process).
 */
const procedures: { [S in RecoveryStep['step']]: ProcedureModule<S> } = {
  'assess-corruption': async () => (await import('./assess-corruption.js')).assessCorruption,
  'stop-writes': async () => (await import('./stop-writes.js')).stopWrites,
  'resume-writes': async () => (await import('./resume-writes.js')).resumeWrites,
  'pitr-restore': async () => (await import('./pitr-restore.js')).pitrRestore,
  'restore-base-backup': async () => (await import('./restore-base-backup.js')).restoreBaseBackup,
  'switch-workload': async () => (await import('./switch-workload.js')).switchWorkload,
  'promote-replica': async () => (await import('./promote-replica.js')).promoteReplica,
  'fence-old-primary': async () => (await import('./fence-old-primary.js')).fenceOldPrimary,
  'migration-status': async () => (await import('./migration-status.js')).migrationStatus,
  'migration-rollback': async () => (await import('./migration-rollback.js')).migrationRollback,
  'migration-current': async () => (await import('./migration-current.js')).migrationCurrent,
  'take-base-backup': async () => (await import('./take-base-backup.js')).takeBaseBackup,
  reindex: async () => (await import('./reindex.js')).reindex,
  'k8s-incident-assessment': async () => (await import('./k8s-incident-assessment.js')).k8sIncidentAssessment,
  'k8s-rollout-undo': async () => (await import('./k8s-rollout-undo.js')).k8sRolloutUndo,
  'k8s-rollout-status': async () => (await import('./k8s-rollout-status.js')).k8sRolloutStatus,
  'k8s-blue-green-switch': async () => (await import('./k8s-blue-green-switch.js')).k8sBlueGreenSwitch,
  'k8s-rollout-restart': async () => (await import('./k8s-rollout-restart.js')).k8sRolloutRestart,
  'k8s-configmap-patch': async () => (await import('./k8s-configmap-patch.js')).k8sConfigMapPatch,
  'k8s-secret-patch': async () => (await import('./k8s-secret-patch.js')).k8sSecretPatch,
  'k8s-scale': async () => (await import('./k8s-scale.js')).k8sScale,
  'k8s-auto-rollback': async () => (await import('./k8s-auto-rollback.js')).k8sAutoRollback,
  'k8s-circuit-breaker': async () => (await import('./k8s-circuit-breaker.js')).k8sCircuitBreaker,
  'k8s-cordon': async () => (await import('./k8s-cordon.js')).k8sCordon,
  'k8s-drain': async () => (await import('./k8s-drain.js')).k8sDrain,
  'k8s-delete-node': async () => (await import('./k8s-delete-node.js')).k8sDeleteNode,
  'k8s-replace-node': async () => (await import('./k8s-replace-node.js')).k8sReplaceNode,
  smoke: async () => {
    const { smokeStep } = await import('./smoke.js');
    return (ctx, step) => smokeStep(ctx, step, 'recover');
  },
  'service-restart': async () => (await import('./service-restart.js')).serviceRestart,
  'clock-sync': async () => (await import('./clock-sync.js')).clockSync,
  'clock-restamp': async () => (await import('./clock-restamp.js')).clockRestamp,
  'revoke-all-tokens': async () => (await import('./revoke-all-tokens.js')).revokeAllTokens,
  'preserve-forensics': async () => (await import('./preserve-forensics.js')).preserveForensics,
  'activate-incident-response': async () => (await import('./activate-incident-response.js')).activateIncidentResponse,
  'enable-emergency-access': async () => (await import('./enable-emergency-access.js')).enableEmergencyAccess,
  'isolate-compromised-nodes': async () => (await import('./isolate-compromised-nodes.js')).isolateCompromisedNodes,
  'dns-failover': async () => (await import('./dns-failover.js')).dnsFailover,
  'activate-dr-site': async () => (await import('./activate-dr-site.js')).activateDrSite,
  'verify-dr': async () => (await import('./verify-dr.js')).verifyDr,
  failback: async () => (await import('./failback.js')).failback,
  'heal-region-partition': async () => (await import('./heal-region-partition.js')).healRegionPartition,
  notify: async () => (await import('./notify.js')).notify,
  'remove-network-fault': async () => (await import('./remove-network-fault.js')).removeNetworkFault,
  wait: async () => (await import('./wait.js')).waitStep,
  'free-space': async () => (await import('./free-space.js')).freeSpace,
  'pg-restart': async () => (await import('./pg-restart.js')).pgRestart,
  'fix-archiving': async () => (await import('./fix-archiving.js')).fixArchiving,
  'remove-resource-limit': async () => (await import('./remove-resource-limit.js')).removeResourceLimit,
  // The person did the work (src/engine/manual-gate.ts waited for them); drill has nothing to do.
  manual: async () => async () => ({}),
};

/**
 * Imports the modules of these steps' procedures. The drill calls it before the fault, so no
 * module load is timed as part of a recovery step.
 */
export async function loadProcedures(steps: readonly Pick<RecoveryStep, 'step'>[]): Promise<void> {
  await Promise.all([...new Set(steps.map((s) => s.step))].map((name) => procedures[name]()));
}

export async function runProcedure(ctx: DrillContext, step: RecoveryStep): Promise<Record<string, unknown>> {
  const procedure = (await procedures[step.step]()) as Procedure<RecoveryStep['step']>;
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
