import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { reapOrphanedRuns, type RunReap } from '../../src/engine/orphaned-runs.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { ROOT } from '../e2e/helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The temp dirs of test/kubernetes/ files (test/support/recorded-test-dir.ts): in the machine-wide
// ledger with the test process as owner, reaped like a killed drill's after a real kill -9.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'recorded-test-dir-test-'));
const owners: ChildProcess[] = [];
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  for (const child of owners.splice(0)) child.kill('SIGKILL');
});

async function startOwner(runs: string): Promise<{ child: ChildProcess; dir: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/test-dir-owner.ts'), runs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  owners.push(child);
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  return { child, ...(JSON.parse(first.value as string) as { dir: string }) };
}

const reaped = (results: RunReap[]) => results.filter((r): r is Extract<RunReap, { state: 'reaped' }> => r.state === 'reaped');

describe('temp dirs of kubernetes-project tests (recordedTestDir)', () => {
  it('kept while the test process runs; after its kill -9, the reaper removes the dir and the ledger', async () => {
    const runs = path.join(tmp, 'runs-killed');
    const owner = await startOwner(runs);
    const [ledger] = listRunLedgers(runs);
    expect(ledger).toBe(path.join(runs, `vitest-tmp-${owner.child.pid}.jsonl`));
    expect(readFileSync(ledger!, 'utf8')).toContain(JSON.stringify({ resource: { kind: 'temp-dir', path: owner.dir } }));
    expect(path.basename(owner.dir)).toMatch(/^drill-test-dir-owner-[0-9a-f]{6}$/);

    // Negative control: its owner runs, so nothing is touched.
    expect(await reapOrphanedRuns(runs)).toMatchObject([{ state: 'running', live: [{ role: 'vitest', pid: owner.child.pid }] }]);
    expect(existsSync(path.join(owner.dir, 'kubeconfig'))).toBe(true);

    const exited = new Promise((resolve) => owner.child.once('exit', resolve));
    owner.child.kill('SIGKILL');
    await exited;
    expect(existsSync(owner.dir)).toBe(true);
    const [run] = reaped(await reapOrphanedRuns(runs));
    expect(run?.report).toEqual({ removed: [`dir ${owner.dir}`], left: [] });
    expect(run?.ledgerRemoved).toBe(true);
    expect(existsSync(owner.dir)).toBe(false);
    expect(listRunLedgers(runs)).toEqual([]);
  });

  it('a test that removes its dirs leaves no ledger behind', () => {
    const runs = path.join(tmp, 'runs-clean');
    const a = recordedTestDir('drill-test-dir-a-', runs);
    const b = recordedTestDir('drill-test-dir-b-', runs);
    expect(listRunLedgers(runs)).toHaveLength(1);
    removeRecordedTestDir(a);
    // b is still there: so is the entry that lets a reaper find it.
    expect(listRunLedgers(runs)).toHaveLength(1);
    expect(existsSync(a)).toBe(false);
    removeRecordedTestDir(b);
    expect(existsSync(b)).toBe(false);
    expect(listRunLedgers(runs)).toEqual([]);
  });
});
