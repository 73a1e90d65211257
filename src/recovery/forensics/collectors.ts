import type { ForensicArtifactKind } from '../../scenario/incident-schema.js';
import { attackerActivity } from './attacker-activity.js';
import type { ForensicCollector } from './collected-file.js';
import { databaseSessions, databaseSnapshot, postgresLogs } from './postgres-evidence.js';
import { databaseBasebackup } from './database-basebackup.js';
import { memoryDump } from './memory-dump.js';
import { serviceLogs } from './service-logs.js';
import { apiserverAuditLog, kubernetesObjects, podLogs } from './kubernetes-evidence.js';

/** One collector per artifact kind the schema offers, in the order they are collected. */
export const COLLECTORS: { readonly [K in ForensicArtifactKind]: ForensicCollector } = {
  'attacker-activity': attackerActivity,
  'service-logs': serviceLogs,
  'postgres-logs': postgresLogs,
  'database-sessions': databaseSessions,
  'database-snapshot': databaseSnapshot,
  'database-basebackup': databaseBasebackup,
  'memory-dump': memoryDump,
  'kubernetes-objects': kubernetesObjects,
  'pod-logs': podLogs,
  'apiserver-audit-log': apiserverAuditLog,
};
