import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { currentMounts } from '../../src/targets/process/mounts.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { negativeControlDisagreement } from '../support/catalogue-outcome.js';
import { interruptBeforeTestTimeout } from './cli-deadline.js';
import { journalTimeline } from '../support/journal-timeline.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * A reports directory and a runs directory of the test file's own (`prefix` starts with
 * drill-e2e-): the drills' reaper then touches no other drill on the machine. `env` points the CLI
 * at that runs directory. After each test no run ledger may be left; after the file, `drill
 * cleanup` runs over it and both directories go.
 */
export function e2eWorkspace(prefix: string): { reportsDir: string; runs: string; env: { DRILL_RUNS_DIR: string } } {
  const reportsDir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const runs = mkdtempSync(path.join(os.tmpdir(), `${prefix}-runs-`));
  const env = { DRILL_RUNS_DIR: runs };
  afterAll(async () => {
    await runCli(['cleanup'], { env });
    rmSync(reportsDir, { recursive: true, force: true });
    rmSync(runs, { recursive: true, force: true });
  });
  afterEach(() => expect(listRunLedgers(runs), 'a run ledger was left in the runs directory').toEqual([]));
  return { reportsDir, runs, env };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `drill` as a user would (bin/drill.mjs), optionally acting on its output as it appears. */
export function runCli(
  args: string[],
  options: {
    env?: Record<string, string>;
    onOutput?: (all: string, child: ReturnType<typeof spawn>) => void;
    /** In a process group of its own (as from a terminal), so a test can kill the group without killing itself. */
    detached?: boolean;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/drill.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached,
    });
    let stdout = '';
    let stderr = '';
    const disarm = interruptBeforeTestTimeout(child, (text) => (stderr += text));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onOutput?.(stdout + stderr, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onOutput?.(stdout + stderr, child);
    });
    child.on('exit', (code, signal) => {
      disarm();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * `drill <name>: run <id>`, the line a `drill run` prints for its own drill. Not any "run <id>": a
 * `drill run` first reaps the runs of drills killed on this machine (other tests' too) and names
 * them ("cleaning up after a killed run <id>").
 */
export const OWN_RUN_LINE = /^drill \S+: run (\S+)/m;

/** The run directory a `drill run` printed for its own drill. */
export function runDirFrom(output: string, reportsDir: string): string {
  const id = OWN_RUN_LINE.exec(output)?.[1];
  if (!id) throw new Error(`no run id in output:\n${output}`);
  return path.join(reportsDir, id);
}

export function readJournal(runDir: string): Journal {
  const journal = JSON.parse(readFileSync(path.join(runDir, 'journal.json'), 'utf8')) as Journal;
  if (isCatalogueRun(journal)) {
    // Every catalogue drill the suite runs holds its outcome to its tag: what a gate excludes is what must fail.
    const definition = journal.scenario.definition;
    const disagreement = negativeControlDisagreement(definition.name, definition.tags, journal.status);
    // Kept either way: a run that disagrees is what a red CI log must let someone read afterwards.
    keepCatalogueRun(runDir);
    if (disagreement) {
      throw new Error(`${disagreement} (run ${runDir}, kept in ${path.join(REPORTS, path.basename(runDir))}): ${verdictSummary(journal)}\n${journalTimeline(journal)}`);
    }
  }
  return journal;
}

/** The checks that did not pass, with their messages (what a disagreement is about). */
function verdictSummary(journal: Journal): string {
  const lines = journal.verdicts.filter((v) => v.status !== 'passed').map((v) => `${v.check} ${v.status}: ${v.message}`);
  if (journal.error) lines.push(`${journal.error.code}: ${journal.error.message}`);
  return lines.join('; ') || 'every check passed';
}

const CATALOGUE = path.join(ROOT, 'drills/scenarios');
/** Where a user's `drill run` keeps its runs by default, and `drill coverage` looks. */
const REPORTS = path.join(ROOT, 'reports');

/** A drill of the shipped catalogue: its scenario file is in drills/scenarios/, unchanged since. */
function isCatalogueRun(journal: Journal): boolean {
  const file = journal.scenario?.file;
  if (!file || path.dirname(path.resolve(ROOT, file)) !== CATALOGUE || !existsSync(file)) return false;
  return createHash('sha256').update(readFileSync(file)).digest('hex') === journal.scenario.sha256;
}

/**
 * A drill of the shipped catalogue the suite ran (the scenario file in drills/scenarios/, unchanged
 * since) is copied, whole, to reports/ as a user's own run would be: `drill coverage` after
 * `npm test` then reports what the suite drilled. Drills of edited or temp scenarios are not: they
 * are not the catalogue. The copy is the run directory as written, evidence included.
 */
function keepCatalogueRun(runDir: string): void {
  const target = path.join(REPORTS, path.basename(runDir));
  mkdirSync(REPORTS, { recursive: true });
  // Creating the directory claims it: a journal read twice (or two runs of one second) copies once.
  try {
    mkdirSync(target);
  } catch {
    return;
  }
  cpSync(runDir, target, { recursive: true });
}

/**
 * What a drill left behind: PostgreSQL processes over any data directory it recorded, and any
 * recorded temp directory that still exists. Empty means clean.
 */
/** `family name` of every nftables table (none without nft). */
export function nftTables(): string[] {
  try {
    return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } })
      .split('\n')
      .filter((l) => l.startsWith('table '))
      .map((l) => l.slice('table '.length).trim());
  } catch {
    return [];
  }
}

export function leftovers(runDir: string): string[] {
  const resources = readResources(path.join(runDir, 'resources.jsonl'));
  const processes = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  const left: string[] = [];
  for (const r of resources) {
    if (r.kind === 'temp-dir' && existsSync(r.path)) left.push(`dir ${r.path}: ${readdirSync(r.path).join(',')}`);
    if (r.kind === 'pg-data-dir') {
      for (const p of processes) if (p.includes(r.path)) left.push(`process ${p.trim()}`);
    }
    // Kubernetes components (src/targets/kubernetes): the recorded pid, if still that process.
    if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) left.push(`process ${r.name} (pid ${r.pid})`);
    // A disk fault's volume (src/targets/process/tmpfs-volume.ts): still mounted with its drill source.
    if (r.kind === 'mount' && currentMounts().some((m) => m.path === r.path && m.source === r.source)) left.push(`mount ${r.path}`);
    // A packet fault's nftables table (src/targets/network-nft): still listed by the kernel.
    if (r.kind === 'nft-table' && nftTables().includes(`${r.family} ${r.name}`)) left.push(`nft table ${r.family} ${r.name}`);
    // A resource fault's cgroup (src/targets/process/limit-cgroup.ts): its directory still there.
    if (r.kind === 'limit-cgroup' && existsSync(path.join(r.mount, r.path))) left.push(`cgroup ${r.controller}:${r.path}`);
    // A data directory on drillfs (src/targets/process/drillfs-mount.ts): the mount, and its daemon.
    if (r.kind === 'fuse-mount') {
      if (currentMounts().some((m) => m.path === r.path && m.source === r.source)) left.push(`mount ${r.path}`);
      for (const p of processes) if (p.includes('drillfs') && p.includes(`-mount ${r.path}`)) left.push(`process ${p.trim()}`);
    }
  }
  return left;
}

/** A scenario of the shipped catalogue (drills/scenarios/). */
export const catalogueScenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);

/** The checks a run failed, in the judge's order. */
export const failedChecks = (journal: Journal) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);

/** One check's verdict of a run (undefined when it was not judged). */
export const verdictOf = (journal: Journal, check: string) => journal.verdicts.find((v) => v.check === check);

export interface ScenarioRun {
  code: number | null;
  /** stdout and stderr together, for assertion messages. */
  stdout: string;
  journal: Journal;
  runDir: string;
}

/** `drill run <file> --reports-dir <reportsDir>` and what it left: exit code, output, the run's journal and directory. */
export async function runScenario(file: string, reportsDir: string, extraArgs: string[] = []): Promise<ScenarioRun> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir, ...extraArgs]);
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, stdout: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(file) : [file];
  });
}
