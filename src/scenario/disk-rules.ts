import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the full-disk vocabulary (disk-schema.ts; see rules.ts for why they are not
 * zod refinements): a volume is mounted on this machine, so only by the native provider; a fault or
 * step on the WAL volume (disk-full, wal-archive-stuck, free-space) needs targets.postgres.walVolume.
 */
export function diskIssues(data: unknown): PathIssue[] {
  if (!isRecord(data)) return [];
  const issues: PathIssue[] = [];
  const postgres = isRecord(data.targets) && isRecord(data.targets.postgres) ? data.targets.postgres : undefined;
  const hasVolume = isRecord(postgres?.walVolume);
  if (postgres && hasVolume && postgres.provider !== 'native') {
    issues.push({
      path: ['targets', 'postgres', 'walVolume'],
      anchor: 'key',
      message: `the drill mounts the WAL volume on this machine, which only the native provider runs on; set targets.postgres.provider: native (now ${String(postgres.provider ?? 'auto')})`,
    });
  }
  const check = (list: unknown, key: 'type' | 'step', variant: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (!isRecord(item) || item[key] !== variant || hasVolume || !postgres) return;
      issues.push({
        path: [key === 'type' ? 'faults' : 'recovery', i, key],
        anchor: 'value',
        message: `${variant} acts on the primary's WAL volume, which the drill creates only when asked: add targets.postgres.walVolume (e.g. walVolume: {sizeMiB: 32}) and provider: native`,
      });
    });
  };
  check(data.faults, 'type', 'disk-full');
  check(data.faults, 'type', 'wal-archive-stuck');
  check(data.recovery, 'step', 'free-space');
  return issues;
}
