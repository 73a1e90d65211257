import type { ArchivingFacts, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';

/** How long the archiver may take to archive one segment switched out after recovery. */
export const ARCHIVE_WAIT_MS = 15_000;

interface ArchiverRow {
  failed_count: string;
  last_archived_wal: string | null;
  last_failed_wal: string | null;
}

const ARCHIVER = 'select failed_count::text, last_archived_wal, last_failed_wal from pg_stat_archiver';

/**
 * Does archiving work on the recovered primary? Writes a little WAL (a non-transactional logical
 * message: no table touched), switches to a new segment, and waits until pg_stat_archiver says the
 * switched-out segment was archived, noting whether the archiver failed meanwhile. Segment names
 * sort in WAL order (timeline first), so "archived up to it" is a string comparison. Never throws:
 * what could not be read is `error` (the check then fails).
 */
export async function collectArchivingFacts(connection: ConnectionInfo, instance: string, at: () => Stamp, waitMs = ARCHIVE_WAIT_MS): Promise<ArchivingFacts> {
  const started = Date.now();
  const facts: ArchivingFacts = { checkedAt: at(), instance, archived: false, waitedMs: 0 };
  try {
    await withClient({ ...connection, database: 'postgres' }, async (c) => {
      const before = (await c.query<ArchiverRow>(ARCHIVER)).rows[0]!;
      facts.failedCountBefore = Number(before.failed_count);
      await c.query("select pg_logical_emit_message(false, 'drill-archive-check', 'x')");
      const { rows } = await c.query<{ wal: string }>('select pg_walfile_name(pg_switch_wal()) as wal');
      const switched = rows[0]!.wal;
      facts.switchedWal = switched;
      let now = before;
      for (;;) {
        now = (await c.query<ArchiverRow>(ARCHIVER)).rows[0]!;
        const last = now.last_archived_wal;
        facts.archived = last !== null && /^[0-9A-F]{24}$/.test(last) && last >= switched;
        if (facts.archived || Date.now() - started > waitMs) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      facts.failedCountAfter = Number(now.failed_count);
      facts.lastArchivedWalAfter = now.last_archived_wal;
      facts.lastFailedWalAfter = now.last_failed_wal;
    });
  } catch (error) {
    facts.error = error instanceof Error ? error.message : String(error);
  }
  facts.waitedMs = Date.now() - started;
  return facts;
}
