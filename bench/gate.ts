/**
 * `npm run bench:gate [-- --select drills/scenarios/ --tag T --exclude-tag T --parallel 2 --out bench/results/gate.json]`
 *
 * The performance of the CI gate (issue 11): the real `drill run` over one selection of the
 * catalogue, once one drill at a time (`--parallel 1`) and once with `--parallel N`, each into a
 * reports dir of its own. Per drill, from its journal and summary.json, where its wall time went
 * (bench/gate-split.ts): the scenario's own fixed waits, the system's behaviour (fault to back and
 * done), the scenario's own load test and validation steps, and the harness's overhead; per pass, the wall time. Goals: overhead per drill under 2 s,
 * the parallel pass at most 0.6x the sum of the sequential drills. A goal not met is reported as
 * such. Exit 1 when a drill's result differs between the two passes (parallel must not change a
 * verdict), 2 on bad flags or a selection `drill run` refuses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Journal } from '../src/engine/journal-types.js';
import type { SuiteEntry, SuiteSummary } from '../src/report/suite-summary.js';
import { childEnvironment } from '../src/targets/process/child-environment.js';
import { splitOfGateDrill } from './gate-split.js';
import { verdictDifferences, type DrillResult } from './gate-verdicts.js';

const USAGE = 'usage: npm run bench:gate -- [--select PATH|GLOB]... [--tag T]... [--exclude-tag T]... [--parallel 2] [--out bench/results/gate.json]';
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const WORKFLOW = path.join(ROOT, '.github/workflows/drills.yml');
/**
 * Without --select: the gate's directory less what this machine's default run should not need: a
 * Kubernetes control plane (kubernetes), moto and the region processes (region), root mounts
 * (disk) and root nftables tables (nftables). About 10 min for both passes here; the whole
 * catalogue is `--select drills/scenarios/`.
 */
const DEFAULT_SELECT = 'drills/scenarios/';
const DEFAULT_EXTRA_EXCLUDES = ['kubernetes', 'region', 'disk', 'nftables'];
const OVERHEAD_GOAL_MS = 2000;
const PARALLEL_GOAL_RATIO = 0.6;

function bad(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values: { select?: string[]; tag?: string[]; 'exclude-tag'?: string[]; parallel?: string; out?: string };
try {
  ({ values } = parseArgs({
    options: {
      select: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true, default: [] },
      'exclude-tag': { type: 'string', multiple: true, default: [] },
      parallel: { type: 'string', default: '2' },
      out: { type: 'string', default: 'bench/results/gate.json' },
    },
  }));
} catch (error) {
  bad((error as Error).message);
}
const parallel = Number(values.parallel);
if (!Number.isInteger(parallel) || parallel < 2 || parallel > 16) bad('--parallel must be a whole number from 2 to 16 (the sequential pass is always --parallel 1)');

/** What the shipped gate excludes: every `--exclude-tag` of its `drill run` line in .github/workflows/drills.yml. */
function gateExcludes(): string[] {
  const line = readFileSync(WORKFLOW, 'utf8').split('\n').find((l) => /drill run /.test(l));
  if (!line) throw new Error(`${WORKFLOW}: no \`drill run\` line; the bench takes the gate's --exclude-tag flags from it`);
  return [...line.matchAll(/--exclude-tag[ =](\S+)/g)].map((m) => m[1]!);
}

const select = values.select ?? [DEFAULT_SELECT];
const gate = gateExcludes();
const selection = {
  select,
  tags: values.tag!,
  gateExcludeTags: gate,
  benchExcludeTags: values.select ? [] : DEFAULT_EXTRA_EXCLUDES,
  excludeTags: [...new Set([...gate, ...(values.select ? [] : DEFAULT_EXTRA_EXCLUDES), ...values['exclude-tag']!])],
};

/** `drill run` exited 2: bad input, nothing started (its message is above). */
class RefusedSelection extends Error {}

class Interrupted extends Error {}

/** The newest file of a run dir (ms since the epoch): when its last report or evidence file was written. */
function lastWritten(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function result(entry: SuiteEntry): DrillResult {
  const base: DrillResult = {
    scenario: entry.scenario,
    file: entry.file,
    status: entry.status,
    ...(entry.exitCode !== undefined ? { exitCode: entry.exitCode } : {}),
    failedChecks: entry.failedChecks.map((c) => c.check),
    ...(entry.error ? { error: `${entry.error.code}: ${entry.error.message}` } : {}),
  };
  const journalFile = entry.runDir ? path.join(entry.runDir, 'journal.json') : undefined;
  if (!journalFile || !existsSync(journalFile) || entry.durationMs === undefined) return base;
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as Journal;
  return { ...base, split: splitOfGateDrill(journal, entry.durationMs, lastWritten(entry.runDir!)) };
}

function pass(work: string, width: number) {
  const reports = mkdtempSync(path.join(work, `reports-p${width}-`));
  const args = [path.join(ROOT, 'bin/drill.mjs'), 'run', ...select, '--parallel', String(width), '--reports-dir', reports];
  for (const t of selection.tags) args.push('--tag', t);
  for (const t of selection.excludeTags) args.push('--exclude-tag', t);
  console.error(`bench: drill run --parallel ${width} (${select.join(' ')}; excluding ${selection.excludeTags.join(', ')})…`);
  const started = performance.now();
  // The CLI's own output goes to stderr: stdout is this bench's summary.
  const run = spawnSync(process.execPath, args, { cwd: ROOT, env: childEnvironment(), stdio: ['ignore', 2, 2], timeout: 3 * 3600_000 });
  const wallMs = Math.round(performance.now() - started);
  if (run.status === 2) throw new RefusedSelection();
  // Interrupted (Ctrl-C, SIGTERM, the timeout): a pass cut short measured nothing to compare.
  if (run.status === 130 || run.status === null) throw new Interrupted(`drill run --parallel ${width} was interrupted (${run.status ?? run.signal}): nothing written`);
  const summaryFile = path.join(reports, 'summary.json');
  if (!existsSync(summaryFile)) throw new Error(`drill run --parallel ${width} ended ${run.status ?? run.signal} without ${summaryFile}`);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as SuiteSummary;
  const drills = summary.drills.map(result);
  const measured = drills.filter((d) => d.split !== undefined).map((d) => d.split!);
  const overheads = measured.map((s) => s.overheadMs.total);
  // The pass's wall time less every drill's waits and system time, per drill: the harness's whole
  // cost (the CLI's start and summary, and a drill process's boot where it overlapped another
  // drill, which no drill's own overhead shows). Only when every drill was measured, and one at a
  // time (drills side by side overlap their waits: the difference means nothing there).
  const wallOverheadPerDrillMs =
    width === 1 && measured.length === drills.length && measured.length > 0
      ? Math.round((wallMs - measured.reduce((sum, s) => sum + s.waitsMs.total + s.systemMs + s.scenarioStepsMs.total, 0)) / measured.length)
      : undefined;
  return {
    parallel: width,
    exitCode: run.status,
    wallMs,
    sumOfDrillsMs: summary.drills.reduce((sum, d) => sum + (d.durationMs ?? 0), 0),
    counts: summary.counts,
    medianDrillMs: median(measured.map((s) => s.totalMs)),
    medianOverheadMs: median(overheads),
    // The same with the scenario's load test and validation steps counted as overhead (as before they were split out).
    medianOverheadWithScenarioStepsMs: median(measured.map((s) => s.overheadMs.total + s.scenarioStepsMs.total)),
    maxOverheadMs: overheads.length ? Math.max(...overheads) : undefined,
    wallOverheadPerDrillMs,
    drills,
  };
}

// The upper median: with an even count the worse of the two middle values (never the better figure).
function median(xs: number[]): number | undefined {
  return xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined;
}

const loadAverageStart = os.loadavg();
const work = mkdtempSync(path.join(os.tmpdir(), 'drill-bench-gate-'));
try {
  const startedAt = new Date().toISOString();
  const sequential = pass(work, 1);
  const parallelPass = pass(work, parallel);
  const loadAverageEnd = os.loadavg();
  const mismatches = verdictDifferences(sequential.drills, parallelPass.drills);
  const overheadOf = (p: typeof sequential) => p.drills.filter((d) => d.split).map((d) => ({ file: d.file, overheadMs: d.split!.overheadMs.total }));
  const worst = overheadOf(sequential).sort((a, b) => b.overheadMs - a.overheadMs)[0];
  const unmeasured = sequential.drills.filter((d) => !d.split).map((d) => d.file);
  const ratioToSum = Math.round((parallelPass.wallMs / sequential.sumOfDrillsMs) * 1000) / 1000;
  const out = {
    startedAt,
    endedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version },
    // The machine is shared: 1, 5 and 15 min load averages when the bench started and ended.
    loadAverage: { start: loadAverageStart.map((l) => Math.round(l * 100) / 100), end: loadAverageEnd.map((l) => Math.round(l * 100) / 100) },
    selection,
    definitions: {
      wallOverheadPerDrillMs: "the sequential pass's wall time less the sum of its drills' waitsMs, systemMs and scenarioStepsMs, divided by the number of drills: everything else the gate spent, the CLI's own start and end and boots that overlapped another drill included",
      totalMs: 'the drill as `drill run` timed it (summary.json durationMs: its run dir, process, network, reports and evidence included)',
      waitsMs: "the scenario's fixed waits from its definition in the journal: baseline.steadyState, expect.stability (held once the service is back and the runbook done), and each recovery `wait` step as long as it lasted",
      systemMs: 'T_fault to the later of the restored instant (verify stableFrom) and the end of recovery, less the wait steps (detection, runbook steps, the service coming back); a drill never seen back: T_fault to the end of verify',
      scenarioStepsMs: "the work the scenario asks for besides the fault and the recovery, run against the system: the baseline load test (workload.load, its run in journal.load) and the runbook's Recovery Validation steps (verify: smoke, load), each as long as it lasted",
      overheadMs: 'totalMs - waitsMs - systemMs - scenarioStepsMs, split as: beforeJournal (CLI run ledger and network, drill process start before its clock; with --parallel 1 the next drill process is launched ahead, so its boot overlaps the previous drill and is not here), provision, baseline beyond the steady-state wait and the load test (base backup, snapshot), inject until T_fault, verify after the stability window beyond its validation steps (integrity, ledger read-back), judge, teardown, betweenPhases, afterJournal (incident report, Allure, timeline, evidence manifest/signature: journal end to the newest run-dir file)',
    },
    goals: {
      overheadPerDrill: {
        goalMs: OVERHEAD_GOAL_MS,
        // Judged on the sequential pass (no drill beside it); the parallel pass's figures are beside it.
        holds: worst !== undefined && worst.overheadMs < OVERHEAD_GOAL_MS && unmeasured.length === 0,
        worstDrill: worst,
        medianSequentialMs: sequential.medianOverheadMs,
        medianSequentialWithScenarioStepsMs: sequential.medianOverheadWithScenarioStepsMs,
        // The same goal read from the sequential pass's wall time (see wallOverheadPerDrillMs).
        wallPerDrillSequentialMs: sequential.wallOverheadPerDrillMs,
        medianParallelMs: parallelPass.medianOverheadMs,
        maxParallelMs: parallelPass.maxOverheadMs,
        drillsOverGoal: overheadOf(sequential).filter((d) => d.overheadMs >= OVERHEAD_GOAL_MS).length,
        drillsMeasured: sequential.drills.length - unmeasured.length,
        unmeasured,
      },
      parallelWallTime: { goalRatio: PARALLEL_GOAL_RATIO, parallel, ratioToSequentialSum: ratioToSum, holds: ratioToSum <= PARALLEL_GOAL_RATIO },
    },
    suite: {
      sequentialWallMs: sequential.wallMs,
      sequentialSumOfDrillsMs: sequential.sumOfDrillsMs,
      parallelWallMs: parallelPass.wallMs,
      parallelToSequentialWall: Math.round((parallelPass.wallMs / sequential.wallMs) * 1000) / 1000,
      parallelToSequentialSum: ratioToSum,
      verdictsDiffer: mismatches,
    },
    passes: { sequential, parallel: parallelPass },
  };
  writeFileSync(values.out!, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify({ loadAverage: out.loadAverage, suite: out.suite, goals: out.goals }, null, 2));
  console.error(`bench: written ${values.out}`);
  if (mismatches.length > 0) {
    console.error(`bench: ${mismatches.length} drill(s) ended differently with --parallel ${parallel}: ${mismatches.map((m) => `${m.file} (${m.sequential} vs ${m.parallel})`).join('; ')}`);
    process.exitCode = 1;
  }
} catch (error) {
  if (error instanceof Interrupted) {
    console.error(`bench: ${error.message}`);
    process.exitCode = 130;
  } else if (error instanceof RefusedSelection) {
    console.error(`drill run refused the selection (exit 2, nothing started): see its message above\n${USAGE}`);
    process.exitCode = 2;
  } else throw error;
} finally {
  rmSync(work, { recursive: true, force: true });
}
