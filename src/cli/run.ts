import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { reapResources } from '../engine/reaper.js';
import type { Journal, RunStatus } from '../engine/journal-types.js';
import { runFiles, type RunPlan } from '../engine/run-plan.js';
import { exitCodeFor, worstStatus } from '../engine/status.js';
import { writeEvidence } from '../report/evidence.js';
import { formatDuration } from '../scenario/duration.js';
import { loadScenarioFiles, type LoadedScenario } from '../scenario/loader.js';
import { startDrillProcess, type DrillProcess } from './drill-process.js';
import { ProgressPrinter } from './progress-printer.js';
import { prepareReportsDir, reportsDirError } from './reports-dir.js';
import { newRunId } from './run-id.js';

export interface RunOptions {
  reportsDir: string;
  confirmDataLoss: boolean;
}

/** `drill run`: validate everything first (exit 2, nothing started), then one drill at a time. */
export async function runCommand(files: string[], options: RunOptions): Promise<number> {
  const loaded = await loadScenarioFiles(files);
  const reportsDir = await prepareReportsDir(options.reportsDir);
  const statuses: RunStatus[] = [];
  const interrupts = new InterruptHandler();
  try {
    for (const scenario of loaded) {
      // A Ctrl-C that came after the last drill ended still stops the run.
      if (interrupts.requested) {
        statuses.push('interrupted');
        break;
      }
      const status = await runOne(scenario, { ...options, reportsDir }, interrupts);
      statuses.push(status);
      if (status === 'interrupted') break;
    }
  } finally {
    interrupts.dispose();
  }
  return exitCodeFor(worstStatus(statuses));
}

async function runOne(loaded: LoadedScenario, options: RunOptions, interrupts: InterruptHandler): Promise<RunStatus> {
  const name = loaded.scenario.name;
  const runId = newRunId(options.reportsDir, name);
  const runDir = path.resolve(options.reportsDir, runId);
  await mkdir(runDir, { recursive: true }).catch((error: unknown) => {
    throw reportsDirError(error, path.join(options.reportsDir, runId));
  });
  const plan: RunPlan = { runId, runDir, scenarioFile: loaded.file, confirmDataLoss: options.confirmDataLoss };
  const files = runFiles(runDir);
  console.log(`drill ${name}: run ${runId}`);

  const printer = new ProgressPrinter(files.progress, `[${name}]`);
  printer.start();
  const child = startDrillProcess(plan);
  interrupts.watch(child, files.interrupt);
  const exit = await child.exited;
  interrupts.unwatch();
  printer.stop();

  // Whatever the drill could not stop itself (killed, crashed) is stopped here.
  const reaped = await reapResources(files.resources);
  if (reaped.length > 0) console.log(`drill ${name}: cleaned up what the drill left: ${reaped.join(', ')}`);

  if (!existsSync(files.journal)) {
    const status: RunStatus = interrupts.requested ? 'interrupted' : 'environment-error';
    console.error(`drill ${name}: the drill process ended (${exit.signal ?? `exit ${exit.code}`}) without writing a journal.`);
    console.error(tail(files.runnerLog));
    console.error(`See ${files.runnerLog}; run with DEBUG=drill:* for detail.`);
    return status;
  }
  const journal = JSON.parse(readFileSync(files.journal, 'utf8')) as Journal;
  await writeEvidence(runDir);
  printSummary(journal, runDir);
  return journal.status ?? 'environment-error';
}

function printSummary(journal: Journal, runDir: string): void {
  const name = journal.scenario.definition.name;
  for (const v of journal.verdicts) console.log(`  ${v.status === 'passed' ? 'PASS' : 'FAIL'} ${v.check}: ${v.message}`);
  if (journal.error) console.log(`  ${journal.status === 'interrupted' ? 'INTERRUPTED' : 'ERROR'}: ${journal.error.message}`);
  for (const e of journal.events.filter((x) => x.kind === 'teardown-failed')) console.log(`  TEARDOWN: ${e.message}`);
  const m = journal.measurements;
  const parts = [
    m.rtoMs !== undefined ? `RTO ${formatDuration(m.rtoMs)}` : undefined,
    m.rpoMs !== undefined ? `RPO ${formatDuration(m.rpoMs)}` : undefined,
    m.lostWrites !== undefined ? `${m.lostWrites} lost writes` : undefined,
  ].filter(Boolean);
  console.log(`drill ${name}: ${journal.status?.toUpperCase()}${parts.length ? ` (${parts.join(', ')})` : ''}`);
  console.log(`  report: ${path.relative(process.cwd(), runDir) || runDir}/ (journal.json, incident-report.md, allure-results/, evidence/)`);
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no runner output)';
  }
}

/**
 * First Ctrl-C (or SIGTERM): ask the drill to stop; it runs its teardown and reports
 * `interrupted`. Second: kill it; the reaper then stops what it had started.
 */
class InterruptHandler {
  requested = false;
  private child: DrillProcess | undefined;
  private interruptFile: string | undefined;
  private firstAt = 0;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (!this.requested) {
      this.requested = true;
      this.firstAt = Date.now();
      console.error(`\ndrill: ${signal}: stopping the drill and running its teardown (again to force)…`);
      if (this.interruptFile) writeFileSync(this.interruptFile, signal);
      return;
    }
    // One keypress can arrive twice (the terminal, and npx forwarding it): that is not a second Ctrl-C.
    if (Date.now() - this.firstAt < 1000) return;
    if (!this.child) {
      console.error('drill: forced exit; run again later to clean up, or see resources.jsonl in the run directory');
      process.exit(130);
    }
    console.error('drill: forcing: killing the drill; leftovers will be reaped');
    this.child.kill('SIGKILL');
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  watch(child: DrillProcess, interruptFile: string): void {
    this.child = child;
    this.interruptFile = interruptFile;
    if (this.requested) writeFileSync(interruptFile, 'SIGINT');
  }

  unwatch(): void {
    this.child = undefined;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
