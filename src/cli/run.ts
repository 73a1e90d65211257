import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { reapResources } from '../engine/reaper.js';
import type { Journal, RunStatus } from '../engine/journal-types.js';
import { runFiles, type RunPlan } from '../engine/run-plan.js';
import { exitCodeFor, worstStatus } from '../engine/status.js';
import { writeEvidence } from '../report/evidence.js';
import { redactDebugOutput } from '../report/redact-debug-output.js';
import { scenarioRedactor, type Redactor } from '../report/redactor.js';
import { formatDuration } from '../scenario/duration.js';
import { loadScenarioFiles, type LoadedScenario } from '../scenario/loader.js';
import { startDrillProcess, type DrillProcess } from './drill-process.js';
import { ProgressPrinter } from './progress-printer.js';
import { newRunId } from './run-id.js';

export interface RunOptions {
  reportsDir: string;
  confirmDataLoss: boolean;
}

/** `drill run`: validate everything first (exit 2, nothing started), then one drill at a time. */
export async function runCommand(files: string[], options: RunOptions): Promise<number> {
  const loaded = await loadScenarioFiles(files);
  const statuses: RunStatus[] = [];
  const interrupts = new InterruptHandler();
  try {
    for (const scenario of loaded) {
      // A Ctrl-C that came after the last drill ended still stops the run.
      if (interrupts.requested) {
        statuses.push('interrupted');
        break;
      }
      const status = await runOne(scenario, options, interrupts);
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
  await mkdir(runDir, { recursive: true });
  const plan: RunPlan = { runId, runDir, scenarioFile: loaded.file, confirmDataLoss: options.confirmDataLoss };
  const files = runFiles(runDir);
  // What this process prints and writes goes through the Redactor of the scenario's ${VAR} values;
  // the drill process has its own, which also knows the secrets created while it runs.
  const redactor = scenarioRedactor(loaded.environment);
  redactDebugOutput(redactor);
  const say = (line: string) => console.log(redactor.redact(line));
  const complain = (line: string) => console.error(redactor.redact(line));
  say(`drill ${name}: run ${runId}`);

  const printer = new ProgressPrinter(files.progress, redactor.redact(`[${name}]`), (text) => redactor.redact(text));
  printer.start();
  const child = startDrillProcess(plan, loaded.environment ?? {});
  interrupts.watch(child, files.interrupt);
  const exit = await child.exited;
  interrupts.unwatch();
  printer.stop();
  // The drill process redacts what it writes; vitest's own lines in the log are redacted here.
  redactRunnerLog(files.runnerLog, redactor);

  // Whatever the drill could not stop itself (killed, crashed) is stopped here.
  const reaped = await reapResources(files.resources);
  if (reaped.length > 0) say(`drill ${name}: cleaned up what the drill left: ${reaped.join(', ')}`);

  if (!existsSync(files.journal)) {
    const status: RunStatus = interrupts.requested ? 'interrupted' : 'environment-error';
    complain(`drill ${name}: the drill process ended (${exit.signal ?? `exit ${exit.code}`}) without writing a journal.`);
    complain(tail(files.runnerLog));
    complain(`See ${files.runnerLog}; run with DEBUG=drill:* for detail.`);
    return status;
  }
  const journal = JSON.parse(readFileSync(files.journal, 'utf8')) as Journal;
  await writeEvidence(runDir, { redactor });
  printSummary(journal, runDir, say);
  return journal.status ?? 'environment-error';
}

function printSummary(journal: Journal, runDir: string, say: (line: string) => void): void {
  const name = journal.scenario.definition.name;
  for (const v of journal.verdicts) say(`  ${v.status === 'passed' ? 'PASS' : 'FAIL'} ${v.check}: ${v.message}`);
  if (journal.error) say(`  ${journal.status === 'interrupted' ? 'INTERRUPTED' : 'ERROR'}: ${journal.error.message}`);
  for (const e of journal.events.filter((x) => x.kind === 'teardown-failed')) say(`  TEARDOWN: ${e.message}`);
  const m = journal.measurements;
  const parts = [
    m.rtoMs !== undefined ? `RTO ${formatDuration(m.rtoMs)}` : undefined,
    m.rpoMs !== undefined ? `RPO ${formatDuration(m.rpoMs)}` : undefined,
    m.lostWrites !== undefined ? `${m.lostWrites} lost writes` : undefined,
  ].filter(Boolean);
  say(`drill ${name}: ${journal.status?.toUpperCase()}${parts.length ? ` (${parts.join(', ')})` : ''}`);
  say(`  report: ${path.relative(process.cwd(), runDir) || runDir}/ (journal.json, incident-report.md, allure-results/, evidence/)`);
}

/** runner.log rewritten through the Redactor, when that changes it (vitest prints what the drill does not control). */
function redactRunnerLog(file: string, redactor: Redactor): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const redacted = redactor.redact(text);
  if (redacted !== text) writeFileSync(file, redacted);
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
