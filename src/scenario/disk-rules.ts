import type { PathIssue } from './issues.js';
import { DEFAULT_DATA_VOLUME_MIB, DEFAULT_WAL_VOLUME_MIB, VOLUME_KEYS } from './disk-schema.js';
import { isRecord } from './schema-walk.js';

type VolumeName = keyof typeof VOLUME_KEYS;
const VOLUME_WORDS: Record<VolumeName, string> = { wal: 'WAL volume', data: 'data volume' };
const DEFAULT_MIB: Record<VolumeName, number> = { wal: DEFAULT_WAL_VOLUME_MIB, data: DEFAULT_DATA_VOLUME_MIB };

/** The volume a fault or step names (the schema's default, wal, when it names none). */
function volumeOf(item: Record<string, unknown>): VolumeName {
  return item.volume === 'data' ? 'data' : 'wal';
}

/**
 * Cross-key rules of the full-disk vocabulary (disk-schema.ts; see rules.ts for why they are not
 * zod refinements): a volume is mounted on this machine, so only by the native provider; a fault or
 * step on a volume (disk-full, wal-archive-stuck, free-space) needs that volume declared
 * (targets.postgres.walVolume, or dataVolume for volume: data); fix-archiving repairs only what a
 * wal-archive-stuck fault broke; a free-space grow must grow.
 */
export function diskIssues(data: unknown): PathIssue[] {
  if (!isRecord(data)) return [];
  const issues: PathIssue[] = [];
  const postgres = isRecord(data.targets) && isRecord(data.targets.postgres) ? data.targets.postgres : undefined;
  for (const [name, key] of Object.entries(VOLUME_KEYS) as Array<[VolumeName, string]>) {
    if (postgres && isRecord(postgres[key]) && postgres.provider !== 'native') {
      issues.push({
        path: ['targets', 'postgres', key],
        anchor: 'key',
        message: `the drill mounts the ${VOLUME_WORDS[name]} on this machine, which only the native provider runs on; set targets.postgres.provider: native (now ${String(postgres.provider ?? 'auto')})`,
      });
    }
  }
  const check = (list: unknown, key: 'type' | 'step', variant: string) => {
    if (!Array.isArray(list) || !postgres) return;
    list.forEach((item, i) => {
      if (!isRecord(item) || item[key] !== variant) return;
      const volume = volumeOf(item);
      if (isRecord(postgres[VOLUME_KEYS[volume]])) return;
      const example = volume === 'wal' ? 'walVolume: {sizeMiB: 32}' : 'dataVolume: {sizeMiB: 64}';
      issues.push({
        path: [key === 'type' ? 'faults' : 'recovery', i, key],
        anchor: 'value',
        message: `${variant} acts on the primary's ${VOLUME_WORDS[volume]}, which the drill creates only when asked: add targets.postgres.${VOLUME_KEYS[volume]} (e.g. ${example}) and provider: native`,
      });
    });
  };
  issues.push(...passthroughIssues(data, postgres));
  check(data.faults, 'type', 'disk-full');
  check(data.faults, 'type', 'wal-archive-stuck');
  check(data.recovery, 'step', 'free-space');
  issues.push(...fixArchivingIssues(data), ...growIssues(data, postgres, 'wal'), ...growIssues(data, postgres, 'data'));
  return issues;
}

/**
 * fix-archiving runs ALTER SYSTEM RESET archive_command: after a wal-archive-stuck fault that puts
 * back the configured command; anywhere else it would drop a setting the drill did not make.
 */
function fixArchivingIssues(data: Record<string, unknown>): PathIssue[] {
  const stuck = Array.isArray(data.faults) && data.faults.some((f) => isRecord(f) && f.type === 'wal-archive-stuck');
  if (stuck || !Array.isArray(data.recovery)) return [];
  return data.recovery.flatMap((item, i): PathIssue[] =>
    isRecord(item) && item.step === 'fix-archiving'
      ? [
          {
            path: ['recovery', i, 'step'],
            anchor: 'value',
            message:
              'fix-archiving resets archive_command (ALTER SYSTEM RESET), which repairs only what a wal-archive-stuck fault broke; ' +
              'add a wal-archive-stuck fault, or remove this step (without that fault it would discard an archive_command the drill did not set)',
          },
        ]
      : [],
  );
}

/**
 * A free-space grow to no more than the volume's size at that point (its configured size, or what
 * an earlier grow made it) fails at run time (VOLUME_NOT_GROWN): said here, before anything starts.
 */
function growIssues(data: Record<string, unknown>, postgres: Record<string, unknown> | undefined, volume: VolumeName): PathIssue[] {
  const key = VOLUME_KEYS[volume];
  const declared = postgres?.[key];
  if (!Array.isArray(data.recovery) || !isRecord(declared)) return [];
  const configured = declared.sizeMiB;
  let sizeMiB = typeof configured === 'number' ? configured : DEFAULT_MIB[volume];
  let grown = false;
  const issues: PathIssue[] = [];
  data.recovery.forEach((item, i) => {
    if (!isRecord(item) || item.step !== 'free-space' || item.how !== 'grow' || volumeOf(item) !== volume) return;
    if (typeof item.growToMiB !== 'number') {
      sizeMiB *= 2;
      grown = true;
      return;
    }
    if (item.growToMiB <= sizeMiB) {
      issues.push({
        path: ['recovery', i, 'growToMiB'],
        anchor: 'value',
        message: `a grow must make the ${VOLUME_WORDS[volume]} larger than its ${sizeMiB} MiB at this step (${grown ? 'after an earlier grow' : `targets.postgres.${key}.sizeMiB`}); give a growToMiB above ${sizeMiB}, or use how: remove-filler`,
      });
      return;
    }
    sizeMiB = item.growToMiB;
    grown = true;
  });
  return issues;
}

/**
 * dataPassthrough (drillfs at the data directory) is mounted on this machine, so native only, and
 * cannot share the data directory with a dataVolume; disk-io-errors needs it.
 */
function passthroughIssues(data: Record<string, unknown>, postgres: Record<string, unknown> | undefined): PathIssue[] {
  if (!postgres) return [];
  const issues: PathIssue[] = [];
  const has = isRecord(postgres.dataPassthrough);
  if (has && postgres.provider !== 'native') {
    issues.push({
      path: ['targets', 'postgres', 'dataPassthrough'],
      anchor: 'key',
      message: `the drill mounts drillfs at the data directory on this machine, which only the native provider runs on; set targets.postgres.provider: native (now ${String(postgres.provider ?? 'auto')})`,
    });
  }
  if (has && isRecord(postgres.dataVolume)) {
    issues.push({
      path: ['targets', 'postgres', 'dataPassthrough'],
      anchor: 'key',
      message: 'dataPassthrough and dataVolume both put the data directory on a mount of their own; keep one (dataVolume for disk-full, dataPassthrough for disk-io-errors)',
    });
  }
  if (Array.isArray(data.faults) && !has) {
    data.faults.forEach((item, i) => {
      if (!isRecord(item) || item.type !== 'disk-io-errors') return;
      issues.push({
        path: ['faults', i, 'type'],
        anchor: 'value',
        message: 'disk-io-errors fails I/O of the primary\'s data directory through drillfs, which the drill mounts only when asked: add targets.postgres.dataPassthrough: {} and provider: native',
      });
    });
  }
  return issues;
}
