import type { DataDirectory } from './data-directory.js';

/** What a fenced data directory carries, for journals and error messages. */
export const FENCE_DESCRIPTION = 'standby.signal with no upstream (primary_conninfo and restore_command empty)';

/**
 * Fences a (stopped) former primary so that it can never take writes again: its data directory
 * is made a standby's with nowhere to stream from. Started again, by the harness or by anyone,
 * it replays its own WAL, opens read-only and waits for WAL that never comes. Its data, including
 * what the promoted replica never got, stays as it was for forensics; nothing is deleted.
 */
export async function fenceAsStandby(directory: DataDirectory, instanceName: string): Promise<void> {
  await directory.touch('standby.signal');
  await directory.appendSettings(
    { primary_conninfo: '', restore_command: '', hot_standby: 'on', default_transaction_read_only: 'on' },
    `${instanceName} fenced`,
  );
}
