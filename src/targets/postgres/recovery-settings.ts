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
      return { ...base, recovery_target_time: target.time, recovery_target_inclusive: 'false' };
    case 'lsn':
      return { ...base, recovery_target_lsn: target.lsn, recovery_target_inclusive: 'true' };
    case 'xid':
      return { ...base, recovery_target_xid: target.xid, recovery_target_inclusive: 'true' };
  }
}
