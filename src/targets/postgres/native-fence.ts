import { chownSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NativeInstance } from './native-instance.js';

/** What a fenced data directory carries, for journals and error messages. */
export const FENCE_DESCRIPTION = 'standby.signal with no upstream (primary_conninfo and restore_command empty)';

/**
 * Fences a (stopped) former primary so that it can never take writes again: its data directory
 * is made a standby's with nowhere to stream from. Started again, by the harness or by anyone,
 * it replays its own WAL, opens read-only and waits for WAL that never comes. Its data, including
 * what the promoted replica never got, stays as it was for forensics; nothing is deleted.
 */
export async function fenceAsStandby(instance: NativeInstance): Promise<void> {
  const signal = path.join(instance.dataDir, 'standby.signal');
  await writeFile(signal, '');
  // Owned like the data directory itself (the postgres user when the harness is root).
  const owner = statSync(instance.dataDir);
  chownSync(signal, owner.uid, owner.gid);
  await instance.writeSettings({ primary_conninfo: '', restore_command: '', hot_standby: 'on', default_transaction_read_only: 'on' });
}
