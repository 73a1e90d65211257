import { rmSync } from 'node:fs';
import { createRecordedTempDir } from '../../src/engine/recorded-temp-dir.js';
import { RunLedger, runsDir } from '../../src/engine/run-ledger.js';

/**
 * Temp directories of test files that run outside `npm test`'s recorded TMPDIR (the kubernetes
 * project keeps /tmp short: a real node's containerd socket path below a nested temp dir would pass
 * the 107-byte limit). Each goes into the machine-wide run ledger before it exists, like the shared
 * control plane (test/support/control-plane-setup.ts), in one ledger per test process with that
 * process as owner: a vitest killed with -9 leaves directories that the next `drill run` or
 * `drill cleanup` removes. The ledger goes once the process removed every directory it made.
 */
let ledger: RunLedger | undefined;
const live = new Set<string>();

/**
 * `<tmpdir>/<prefix><6 hex>` (as short as mkdtemp's), recorded first; `prefix` must start with
 * `drill-`. `dir`: the runs directory, used by the first call of a process (tests of this helper).
 */
export function recordedTestDir(prefix: string, dir: string = runsDir()): string {
  ledger ??= RunLedger.create(dir, { runId: `vitest-tmp-${process.pid}`, runDir: '' }, 'vitest');
  const made = createRecordedTempDir(ledger, prefix, { randomBytes: 3 });
  live.add(made);
  return made;
}

/** Removes a directory recordedTestDir made; the process's ledger with the last one. */
export function removeRecordedTestDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
  if (live.size === 0 && ledger) {
    ledger.remove();
    ledger = undefined;
  }
}
