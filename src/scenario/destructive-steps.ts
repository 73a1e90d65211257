import type { RecoveryStep } from './schema.js';

/**
 * Which recovery steps destroy evidence of a breach: they end sessions or processes (whose state
 * and logs an investigator needs), rotate credentials, replace pods or nodes, or rewrite data.
 * Evidence must be preserved before the first of them runs (the forensics check). One entry per
 * step kind, so a new step does not compile until it says; read-only steps, steps that only add
 * (a restore into a new instance, a backup) and steps that only move traffic are not destructive.
 */
export const DESTROYS_EVIDENCE: { readonly [S in RecoveryStep['step']]: boolean } = {
  'assess-corruption': false,
  // Ends the write sessions.
  'stop-writes': true,
  'resume-writes': false,
  'pitr-restore': false,
  'restore-base-backup': false,
  // Restarts the service's processes against another database (with targets.service).
  'switch-workload': true,
  'promote-replica': true,
  'fence-old-primary': true,
  'migration-status': false,
  'migration-rollback': true,
  'migration-current': false,
  'take-base-backup': false,
  reindex: true,
  'k8s-incident-assessment': false,
  'k8s-rollout-undo': true,
  'k8s-rollout-status': false,
  'k8s-blue-green-switch': false,
  'k8s-rollout-restart': true,
  'k8s-configmap-patch': true,
  'k8s-secret-patch': true,
  'k8s-scale': true,
  'k8s-auto-rollback': true,
  'k8s-circuit-breaker': true,
  'k8s-cordon': false,
  'k8s-drain': true,
  'k8s-delete-node': true,
  'k8s-replace-node': true,
  smoke: false,
  'service-restart': true,
  // Replaces the service's processes, like service-restart.
  'clock-sync': true,
  // Rewrites rows (created_at).
  'clock-restamp': true,
  'revoke-all-tokens': true,
  'preserve-forensics': false,
  'activate-incident-response': false,
  // Adds access; takes nothing away.
  'enable-emergency-access': false,
  // Evicts the compromised pods (their memory and logs go with them).
  'isolate-compromised-nodes': true,
  'dns-failover': false,
  // Kills what answers of the lost region and promotes the DR replica (its old timeline ends).
  'activate-dr-site': true,
  // Reads, one temporary-table write and a smoke transfer between the drill's own accounts.
  'verify-dr': false,
  // Replaces the lost primary's data directory (a fresh base backup of the DR primary), makes the DR database read-only, promotes the rebuilt one.
  failback: true,
  notify: false,
  'remove-network-fault': false,
  // Removes the partition's toxics; the replica only catches up.
  'heal-region-partition': false,
  wait: false,
  // Removes the filler a fault wrote (and with it what filled the disk).
  'free-space': true,
  // Ends every session and the server process.
  'pg-restart': true,
  // Changes the server's configuration (archive_command) and forces a checkpoint.
  'fix-archiving': true,
  // Moves processes between cgroups and removes the drill's: no session, process or data goes.
  'remove-resource-limit': false,
  // What a person does outside drill is not known to it; a game day that destroys evidence says so in `instructions`.
  manual: false,
};

export function destroysEvidence(step: string): boolean {
  return (DESTROYS_EVIDENCE as Record<string, boolean | undefined>)[step] === true;
}
