import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { reapOrphanedRuns, type RunReap } from '../../src/engine/orphaned-runs.js';
import { reapingOrder } from '../../src/engine/reapers.js';
import type { Resource } from '../../src/engine/resource-ledger.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { processStartTime } from '../../src/targets/process/process-identity.js';
import { ROOT } from '../e2e/helpers.js';

// Real processes killed with SIGKILL, real directories, a real mount: the reaper of the
// machine-wide ledger (what `drill cleanup` and every `drill run` do first).
const tmp = mkdtempSync(path.join(os.tmpdir(), 'orphaned-runs-test-'));
// What a test started; stopped afterwards only while still that process (a pid may be reused).
const owners: ChildProcess[] = [];
const programs: Array<{ pid: number; marker: string }> = [];
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  for (const child of owners.splice(0)) child.kill('SIGKILL');
  for (const p of programs.splice(0)) if (recordedProcessAlive(p.pid, p.marker)) process.kill(p.pid, 'SIGKILL');
});

let runsCount = 0;
const newRunsDir = () => {
  const dir = path.join(tmp, `runs-${++runsCount}`);
  mkdirSync(dir);
  return dir;
};

/** A program in its own session whose command line names `marker` (like a recorded component). */
function program(marker: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], { detached: true, stdio: 'ignore' });
  programs.push({ pid: child.pid!, marker });
  return child;
}

/** test/support/ledger-owner.ts: a process that owns a run, made a temp dir and started a program. */
async function startOwner(runs: string, runId: string): Promise<{ child: ChildProcess; ledger: string; dir: string; program: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/ledger-owner.ts'), runs, runId, path.join(tmp, runId)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  owners.push(child);
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const made = JSON.parse(first.value as string) as { ledger: string; dir: string; program: number };
  programs.push({ pid: made.program, marker: made.dir });
  return { child, ...made };
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const reaped = (results: RunReap[]) => results.filter((r): r is Extract<RunReap, { state: 'reaped' }> => r.state === 'reaped');

function ownerLine(role: string, pid: number, startTime: string | undefined, runId: string): string {
  return `${JSON.stringify({ owner: { role, pid, startTime, runId, runDir: path.join(tmp, runId), since: new Date().toISOString() } })}\n`;
}

describe('reaping runs whose owners are gone (machine-wide ledger)', () => {
  it('leaves a run alone while its owner runs; after kill -9 of the owner, removes what it left and its ledger', async () => {
    const runs = newRunsDir();
    const owner = await startOwner(runs, 'run-killed');
    expect(listRunLedgers(runs)).toEqual([owner.ledger]);

    const whileAlive = await reapOrphanedRuns(runs);
    expect(whileAlive).toMatchObject([{ state: 'running', run: { runId: 'run-killed' }, live: [{ role: 'drill', pid: owner.child.pid }] }]);
    expect(recordedProcessAlive(owner.program, owner.dir)).toBe(true);
    expect(existsSync(owner.dir)).toBe(true);

    await killed(owner.child);
    // The program was in its own session: the owner's death did not take it along.
    expect(recordedProcessAlive(owner.program, owner.dir)).toBe(true);
    const results = await reapOrphanedRuns(runs);
    expect(results).toHaveLength(1);
    const [run] = reaped(results);
    // Processes before directories.
    expect(run!.report).toEqual({ removed: [`process sleeper ${owner.program}`, `dir ${owner.dir}`], left: [] });
    expect(run!.ledgerRemoved).toBe(true);
    expect(recordedProcessAlive(owner.program, owner.dir)).toBe(false);
    expect(existsSync(owner.dir)).toBe(false);
    expect(existsSync(owner.ledger)).toBe(false);
    expect(await reapOrphanedRuns(runs)).toEqual([]);
  });

  it('a reused pid is neither taken for the owner nor signalled as a recorded program', async () => {
    const runs = newRunsDir();
    // An unrelated live process that "got" the pid of the dead owner and of the recorded program.
    const marker = path.join(tmp, 'unrelated');
    const unrelated = program(marker);
    await new Promise((r) => setTimeout(r, 200));
    const realStart = processStartTime(unrelated.pid!);
    expect(realStart).toBeDefined();
    const ledgerFile = path.join(runs, 'run-reused.jsonl');
    const resources: Resource[] = [
      { kind: 'process', pid: unrelated.pid!, name: 'other-start-time', match: marker, startTime: `${realStart}0` },
      { kind: 'process', pid: unrelated.pid!, name: 'other-command-line', match: path.join(tmp, 'not-its-command-line') },
    ];
    writeFileSync(ledgerFile, ownerLine('drill', unrelated.pid!, `${realStart}0`, 'run-reused') + resources.map((r) => `${JSON.stringify({ resource: r })}\n`).join(''));

    const [run] = reaped(await reapOrphanedRuns(runs));
    expect(run?.report).toEqual({ removed: [], left: [] });
    expect(run?.ledgerRemoved).toBe(true);
    expect(recordedProcessAlive(unrelated.pid!, marker)).toBe(true);

    // Negative control: with its real start time the same record is a live owner, and the program is the recorded one.
    writeFileSync(ledgerFile, ownerLine('drill', unrelated.pid!, realStart, 'run-reused'));
    expect(await reapOrphanedRuns(runs)).toMatchObject([{ state: 'running', live: [{ pid: unrelated.pid }] }]);
    writeFileSync(ledgerFile, `${ownerLine('drill', 999_999_999, undefined, 'run-reused')}${JSON.stringify({ resource: { ...resources[0]!, startTime: realStart } })}\n`);
    const [again] = reaped(await reapOrphanedRuns(runs));
    expect(again?.report.removed).toEqual([`process other-start-time ${unrelated.pid}`]);
    expect(recordedProcessAlive(unrelated.pid!, marker)).toBe(false);
  });

  it('keeps the ledger when something cannot be removed: a directory that is not a drill temp dir', async () => {
    const runs = newRunsDir();
    const notOurs = mkdtempSync(path.join(tmp, 'precious-'));
    writeFileSync(path.join(notOurs, 'keep.txt'), 'data');
    const ledgerFile = path.join(runs, 'run-foreign-dir.jsonl');
    writeFileSync(ledgerFile, `${ownerLine('drill', 999_999_999, undefined, 'run-foreign-dir')}${JSON.stringify({ resource: { kind: 'temp-dir', path: notOurs } })}\n`);
    const [run] = reaped(await reapOrphanedRuns(runs));
    expect(run?.report.left).toEqual([{ what: `dir ${notOurs}`, reason: expect.stringMatching(/not a drill temp directory/) }]);
    expect(run?.ledgerRemoved).toBe(false);
    expect(readFileSync(path.join(notOurs, 'keep.txt'), 'utf8')).toBe('data');
    expect(existsSync(ledgerFile)).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('never deletes through a mount inside a temp dir; reaps the dir once it is unmounted', async () => {
    const runs = newRunsDir();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-reaper-mount-'));
    const mountPoint = path.join(dir, 'mnt');
    mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'drill-test', mountPoint]);
    try {
      writeFileSync(path.join(mountPoint, 'inside.txt'), 'on the mount');
      writeFileSync(path.join(dir, 'beside.txt'), 'beside the mount');
      const ledgerFile = path.join(runs, 'run-mount.jsonl');
      writeFileSync(ledgerFile, `${ownerLine('drill', 999_999_999, undefined, 'run-mount')}${JSON.stringify({ resource: { kind: 'temp-dir', path: dir } })}\n`);
      const [run] = reaped(await reapOrphanedRuns(runs));
      expect(run?.report.left).toEqual([{ what: `dir ${dir}`, reason: `still has mounts inside (${mountPoint}): unmount them first` }]);
      // Nothing deleted at all, not even beside the mount (a recursive delete would have started there).
      expect(readFileSync(path.join(mountPoint, 'inside.txt'), 'utf8')).toBe('on the mount');
      expect(readFileSync(path.join(dir, 'beside.txt'), 'utf8')).toBe('beside the mount');
    } finally {
      execFileSync('umount', [mountPoint]);
    }
    const [run] = reaped(await reapOrphanedRuns(runs));
    expect(run?.report).toEqual({ removed: [`dir ${dir}`], left: [] });
    expect(existsSync(dir)).toBe(false);
    expect(listRunLedgers(runs)).toEqual([]);
  });

  it('orders entries by stage (cluster objects, processes, clusters, directories), newest first within one', () => {
    const resources: Resource[] = [
      { kind: 'temp-dir', path: '/tmp/drill-a' },
      { kind: 'pg-data-dir', path: '/tmp/drill-a/primary/data', bindir: '/usr/lib/postgresql/15/bin' },
      { kind: 'kind-cluster', name: 'drill-x' },
      { kind: 'process', pid: 1, name: 'etcd', match: '/tmp/drill-k8s' },
      { kind: 'process', pid: 2, name: 'kube-apiserver', match: '/tmp/drill-k8s' },
      { kind: 'k8s-namespace', kubeconfig: '/k', context: 'c', name: 'drill-ns', runId: 'r' },
      { kind: 'temp-dir', path: '/tmp/drill-k8s' },
      { kind: 'process', pid: 2, name: 'kube-apiserver', match: '/tmp/drill-k8s' },
    ];
    expect(reapingOrder(resources).map((r) => ('name' in r ? r.name : 'path' in r ? r.path : r.kind))).toEqual([
      'drill-ns',
      'kube-apiserver',
      'etcd',
      '/tmp/drill-a/primary/data',
      'drill-x',
      '/tmp/drill-k8s',
      '/tmp/drill-a',
    ]);
  });
});
