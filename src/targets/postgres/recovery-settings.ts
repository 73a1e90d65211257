import type { RecoveryTargetSpec } from './types.js';

/** postgresql.conf settings for archive recovery up to a target, then promotion. */
export function recoverySettings(archiveDir: string, target: RecoveryTargetSpec): Record<string, string> {
  const base: Record<string, string> = {
    restore_command: `cp '${archiveDir}/%f' '%p'`,
    recovery_target_action: 'promote',
    recovery_target_timeline: 'current',
  };
  switch (target.kind) {
    case 'latest':
      return { ...base, recovery_target_timeline: 'latest' };
    case 'name':
      return { ...base, recovery_target_name: target.name, recovery_target_inclusive: 'true' };
    case 'time':
      return { ...base, recovery_target_time: postgresTimestamp(target.time), recovery_target_inclusive: 'false' };
    case 'lsn':
      return { ...base, recovery_target_lsn: target.lsn, recovery_target_inclusive: 'true' };
    case 'xid':
      return { ...base, recovery_target_xid: target.xid, recovery_target_inclusive: 'true' };
  }
}

/**
 * PostgreSQL parses recovery_target_time before its time zone abbreviations are loaded, so an ISO
 * time ending in `Z` is refused at start-up; a numeric offset is always understood.
 */
export function postgresTimestamp(time: string): string {
  const ms = Date.parse(time);
  if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(time) || Number.isNaN(ms)) return time;
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}+00`;
}
