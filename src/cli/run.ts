import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../engine/clock.js';
import { reapRecorded } from '../engine/reaper.js';
import { RunLedger, runsDir } from '../engine/run-ledger.js';
import type { Journal, RunbookRecord, RunStatus } from '../engine/journal-types.js';
import { runFiles, type RunPlan } from '../engine/run-plan.js';
import { exitCodeFor, suiteExitCode } from '../engine/status.js';
import { writeEvidence } from '../report/evidence.js';
import { type EvidenceKeyEnv, type SigningKey, signingKeyFromEnv, SIGNING_KEY_ENV } from '../report/evidence-keys.js';
import { redactDebugOutput } from '../report/redact-debug-output.js';
import { scenarioRedactor, type Redactor } from '../report/redactor.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { loadScenarioFiles, type LoadedScenario } from '../scenario/loader.js';
import { readRunbook } from '../runbook/read-runbook.js';
import { countByStatus, entryFromJournal, entryWithoutJournal, notRunEntry, type SuiteEntry, type SuiteSummary } from '../report/suite-summary.js';
import { summaryTable } from '../report/summary-table.js';
import { describeSelection, selectedByTags, type TagSelection } from '../scenario/select-by-tags.js';
import { expandScenarioArgs } from './scenario-args.js';
import { prepareJunitFile, writeSuiteOutputs } from './suite-output.js';
import { drillBatches, inPool, type Batch } from './drill-pool.js';
import { SharedCluster } from './shared-cluster.js';
import { sharedClusterIndexes } from './shared-cluster-plan.js';
import { chooseKubernetesProvider } from '../targets/kubernetes/choose-kubernetes-provider.js';
import { runbookRecord } from '../runbook/runbook-record.js';
import { manualInstructions } from '../runbook/manual-instructions.js';
import { identify } from '../targets/process/process-identity.js';
import { reapBeforeRun } from './cleanup.js';
import { startDrillProcess, type DrillProcess } from './drill-process.js';
import { drillNetworkPlan, type DrillNetworkPlan } from '../engine/drill-network-plan.js';
import { InputError } from '../engine/errors.js';
import { ResourceLedger } from '../engine/resource-ledger.js';
import { DrillNetwork, enterNetwork } from '../targets/network/drill-network.js';
import { GUARD_CIDR, networkName } from '../targets/network/layout.js';
import { unrunDrillEntry } from './unrun-drill.js';
import { ProgressPrinter } from './progress-printer.js';
import { prepareReportsDir, reportsDirError } from './reports-dir.js';
import { newRunId } from './run-id.js';
import { prepareHarnessBundle } from './harness-bundle.js';
import { requireVariablesFit } from '../engine/variables-handoff.js';
import { PACKAGE_ROOT } from './package-root.js';

export interface RunOptions {
  reportsDir: string;
  confirmDataLoss: boolean;
  /** The runbook the scenarios follow (`--runbook`, `DRILL_RUNBOOK`): checked against, and recorded in each journal. */
  runbook?: string;
  /** The evidence key variables, taken out of the environment at CLI start. */
  evidenceKeys: EvidenceKeyEnv;
  /** `--tag`/`--exclude-tag`: which of the given scenarios run. */
  selection?: TagSelection;
  /** `--fail-fast`: stop after the first drill that does not pass; the rest are reported as not run. */
  failFast?: boolean;
  /** `--junit FILE`: JUnit XML of the drills, written at the end. */
  junit?: string;
  /** `--parallel N`: at most this many drills at once (Kubernetes drills one at a time, unless they share a control plane: shared-cluster-plan.ts). */
  parallel?: number;
  /** `--game-day`: manual steps wait for a person (`drill continue`); without it a `manual` step is bad input. */
  gameDay?: boolean;
  /** The prebuilt harness the drill processes import (set by runCommand: src/cli/harness-bundle.ts). */
  harnessBundle?: string;
}

/** `drill run`: validate everything first (exit 2, nothing started), then the drills (one at a time, or `--parallel N`), then the summary. */
export async function runCommand(args: string[], options: RunOptions): Promise<number> {
  const startedAt = new Date().toISOString();
  const selection: TagSelection = options.selection ?? { tags: [], excludeTags: [] };
  const runbook = options.runbook === undefined ? undefined : await readRunbook(options.runbook);
  const files = await expandScenarioArgs(args);
  // Every file given is validated, selected or not: a broken scenario in the gate's directory is bad input.
  const loaded = (await loadScenarioFiles(files, { gameDay: options.gameDay ?? false, ...(runbook ? { runbook } : {}) })).filter((l) => selectedByTags(l.scenario.tags, selection));
  if (loaded.length === 0) {
    throw new InputError('NO_SCENARIOS_SELECTED', `no scenario of ${args.join(' ')} is selected by ${describeSelection(selection)}; check the tags (npx drill list shows them). Nothing was started.`);
  }
  for (const l of loaded) requireVariablesFit(l.environment ?? {}, shownPath(l.file));
  // All are input (exit 2): the key is checked first, so a refused key creates nothing, not even the reports directory.
  const signingKey = await signingKeyFromEnv(options.evidenceKeys);
  const junitFile = options.junit === undefined ? undefined : await prepareJunitFile(options.junit);
  const reportsDir = await prepareReportsDir(options.reportsDir);
  const writeRunEvidence = (dir: string) => writeEvidence(dir, signingKey ? { signingKey } : {});
  // What killed drills left (on this machine, any run) goes before a new drill starts beside it.
  await reapBeforeRun(writeRunEvidence);
  // Once per command, before the first drill process starts (a build only after a source change).
  const harnessBundle = options.harnessBundle ?? (await prepareHarnessBundle(PACKAGE_ROOT));
  options = { ...options, ...(harnessBundle ? { harnessBundle } : {}) };
  // CLI-side debug lines of every drill pass every scenario's ${VAR} values (drills may run side by side).
  redactDebugOutput(scenarioRedactor(Object.assign({}, ...loaded.map((l) => l.environment ?? {})) as Record<string, string>));
  const parallel = options.parallel ?? 1;
  const slots: Array<SuiteEntry | undefined> = new Array(loaded.length);
  const interrupts = new InterruptHandler();
  const inputsOf = (i: number) => {
    const scenario = loaded[i]!.scenario;
    return {
      record: runbook ? runbookRecord(runbook, scenario) : undefined,
      manual: options.gameDay && runbook ? manualInstructions(runbook, scenario) : undefined,
    };
  };
  // Which Kubernetes drills share one control plane started for them (only with --parallel 2 or more).
  const shared = parallel < 2 ? [] : sharedClusterIndexes(loaded.map((l) => l.scenario), await providerChoices(loaded), parallel);
  const batches = drillBatches(loaded.map((l) => l.scenario), parallel, shared);
  // The order in which drills start: batch after batch, each pool in order.
  const startOrder = batches.flatMap((b) => b.indexes);
  const begun = new Set<number>();
  // The next drill to start is launched once a running drill's targets are up, so its boot (node,
  // vitest, the harness's imports: about a second) overlaps that drill's waits. One at a time; not
  // a drill of a shared control plane (its cluster is known at its turn).
  let ahead: { index: number; launched: Promise<LaunchedDrill | undefined> } | undefined;
  const launchAhead = () => {
    const next = startOrder.find((i) => !begun.has(i));
    if (next === undefined || shared.includes(next) || interrupts.requested || ahead) return;
    const { record, manual } = inputsOf(next);
    const launched = (async () => {
      // Not a drill in a drill network: a network of its own would exist for nothing while another
      // drill runs, and a cluster's is entered at spawn.
      const networkPlan = await drillNetworkPlan(loaded[next]!.scenario);
      if (networkPlan.how !== 'here') return undefined;
      const launch = await launchDrill(loaded[next]!, { ...options, reportsDir }, record, manual, undefined, networkPlan, true);
      return 'failed' in launch ? undefined : launch;
    })().catch(() => undefined); // then launched at its turn, which reports what failed
    ahead = { index: next, launched };
  };
  const takeAhead = async (i: number): Promise<LaunchedDrill | undefined> => {
    if (ahead?.index !== i) return undefined;
    const launched = await ahead.launched;
    ahead = undefined;
    return launched;
  };
  const runAt = async (i: number, cluster?: SharedCluster): Promise<void> => {
    const scenario = loaded[i]!;
    begun.add(i);
    const launched = await takeAhead(i);
    // A Ctrl-C that came after the last drill ended still stops the run.
    const stopBecause = interrupts.requested ? 'interrupted (Ctrl-C/SIGTERM) before it started' : options.failFast ? failFastReason(slots) : undefined;
    if (stopBecause) {
      if (launched) await cancelLaunched(launched);
      slots[i] = notRunEntry(scenario.scenario.name, shownPath(scenario.file), stopBecause);
      return;
    }
    const { record, manual } = inputsOf(i);
    const started = performance.now();
    const display = { inPlaceProgress: parallel === 1, onProvisioned: launchAhead };
    slots[i] = await runOne(scenario, { ...options, reportsDir }, signingKey, interrupts, record, display, manual, cluster, launched).catch((error: unknown) =>
      // One drill the CLI could not run (its run dir, its evidence) does not hide the others' verdicts.
      unrunDrillEntry(error, { scenario: scenario.scenario.name, file: shownPath(scenario.file), durationMs: Math.ceil(performance.now() - started) }, scenarioRedactor(scenario.environment)),
    );
  };
  const runShared = async (batch: Batch): Promise<void> => {
    if (interrupts.requested) return inPool(batch.indexes, batch.width, (i) => runAt(i));
    const started = performance.now();
    let cluster: SharedCluster;
    try {
      cluster = await SharedCluster.start((line) => console.log(line), batch.indexes.length);
    } catch (error) {
      // Ctrl-C while it started: the drills are not run (runAt says so); otherwise each reports why it could not run.
      if (interrupts.requested) return inPool(batch.indexes, batch.width, (i) => runAt(i));
      for (const i of batch.indexes) {
        const l = loaded[i]!;
        slots[i] = unrunDrillEntry(error, { scenario: l.scenario.name, file: shownPath(l.file), durationMs: Math.ceil(performance.now() - started) }, scenarioRedactor(l.environment));
      }
      return;
    }
    try {
      await inPool(batch.indexes, batch.width, (i) => runAt(i, cluster));
    } finally {
      await cluster.stop((line) => console.log(line));
    }
  };
  try {
    for (const batch of batches) {
      if (batch.sharedCluster) await runShared(batch);
      else await inPool(batch.indexes, batch.width, (i) => runAt(i));
    }
  } finally {
    // Launched ahead for a drill the loop never reached (it threw): not left waiting.
    const left = ahead ? await ahead.launched : undefined;
    if (left) await cancelLaunched(left);
    interrupts.dispose();
  }
  const entries = slots.filter((e): e is SuiteEntry => e !== undefined);
  // An interruption between drills is one too: the run stopped because of it.
  const statuses = [...entries.map((e) => e.status).filter((s): s is RunStatus => s !== 'not-run'), ...(interrupts.requested ? ['interrupted' as const] : [])];
  const exitCode = suiteExitCode(statuses);
  const summary: SuiteSummary = {
    summaryVersion: 1,
    startedAt,
    endedAt: new Date().toISOString(),
    exitCode,
    selection: { tags: [...selection.tags], excludeTags: [...selection.excludeTags], failFast: options.failFast ?? false },
    counts: countByStatus(entries),
    drills: entries,
  };
  console.log(`\n${summaryTable(summary)}`);
  try {
    const written = await writeSuiteOutputs(summary, reportsDir, junitFile);
    console.log(`summary: ${written.map((f) => shownPath(f)).join(', ')}`);
  } catch (error) {
    // The drills' verdicts stand; a gate without its summary file still must not pass silently.
    console.error(`drill: could not write the summary (${(error as Error).message}); check the disk and --junit/--reports-dir`);
    return Math.max(exitCode, exitCodeFor('environment-error'));
  }
  return exitCode;
}

/** How each Kubernetes drill would get its cluster on its own (undefined: not a Kubernetes drill). */
function providerChoices(loaded: readonly LoadedScenario[]): Promise<Array<'start-local' | 'reuse-local' | 'kind' | 'kubeconfig' | undefined>> {
  return Promise.all(loaded.map(async (l) => (l.scenario.targets.kubernetes ? (await chooseKubernetesProvider(l.scenario.targets.kubernetes.provider)).how : undefined)));
}

function failFastReason(entries: ReadonlyArray<SuiteEntry | undefined>): string | undefined {
  const first = entries.find((e) => e !== undefined && e.status !== 'passed' && e.status !== 'not-run');
  return first ? `--fail-fast: ${first.scenario} ended ${first.status}` : undefined;
}

/** As the user would type it: relative below the working directory, absolute elsewhere. */
function shownPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** On the shared control plane: the drill reuses it as it would a `drill cluster up` one (DRILL_KUBECONFIG). */
function clusterEnvOf(cluster: SharedCluster | undefined): Record<string, string> {
  return cluster ? { DRILL_KUBECONFIG: cluster.kubeconfig } : {};
}

/** A drill's process, started; for a drill started ahead of its turn, waiting for its start file. */
interface LaunchedDrill {
  runId: string;
  runDir: string;
  files: ReturnType<typeof runFiles>;
  ledger: RunLedger;
  network?: DrillNetwork;
  child: DrillProcess;
}

/**
 * Everything before the drill's own clock: its run dir, its machine-wide ledger, its drill network
 * and its process. `awaitStart`: the process loads the harness and waits until runOne writes its
 * start file (src/engine/start-gate.ts).
 */
async function launchDrill(
  loaded: LoadedScenario,
  options: RunOptions,
  runbook: RunbookRecord | undefined,
  manual: Record<number, string> | undefined,
  cluster: SharedCluster | undefined,
  networkPlan: DrillNetworkPlan,
  awaitStart: boolean,
): Promise<LaunchedDrill | { failed: unknown; runId: string; runDir: string }> {
  const runId = newRunId(options.reportsDir, loaded.scenario.name);
  const runDir = path.resolve(options.reportsDir, runId);
  // The reports directory was checked before the suite started; failing now is the machine's (exit 3, unrunDrillEntry).
  await mkdir(runDir, { recursive: true }).catch((error: unknown) => {
    throw reportsDirError(error, path.join(options.reportsDir, runId));
  });
  // Machine-wide, with this process as its owner: if this command is killed, the next `drill run`
  // or `drill cleanup` finds what the run left even without knowing --reports-dir.
  const ledger = RunLedger.create(runsDir(), { runId, runDir });
  const files = runFiles(runDir);
  // A drill that starts real nodes runs inside a network namespace of its own (the networking rule).
  let network: DrillNetwork | undefined;
  const clusterEnv = clusterEnvOf(cluster);
  if (networkPlan.how === 'create') {
    const resources = new ResourceLedger(files.resources, ledger);
    try {
      network = await DrillNetwork.create(networkName('run', runId), (r) => resources.record(r));
    } catch (error) {
      return { failed: error, runId, runDir };
    }
  }
  const networkName_ = network?.name ?? (networkPlan.how === 'join' ? networkPlan.name : undefined);
  const plan: RunPlan = {
    runId,
    runDir,
    scenarioFile: loaded.file,
    confirmDataLoss: options.confirmDataLoss,
    ledgerFile: ledger.file,
    parent: identify(),
    ...(runbook ? { runbook } : {}),
    ...(networkName_ ? { network: networkName_ } : {}),
    ...(options.gameDay ? { gameDay: true } : {}),
    ...(manual ? { manualInstructions: manual } : {}),
    ...(awaitStart ? { awaitStart: true } : {}),
    ...(options.harnessBundle ? { harnessBundle: options.harnessBundle } : {}),
  };
  // The AWS credential chain reaches the drill process only for an existing Route 53 zone.
  const aws = loaded.scenario.targets.regions?.dns.route53 !== undefined;
  const child = startDrillProcess(plan, loaded.environment ?? {}, {
    ledger: new ResourceLedger(files.resources, ledger),
    ...(networkName_ ? { enter: enterNetwork(networkName_) } : {}),
    aws,
    set: clusterEnv,
  });
  ledger.addOwner('vitest', child.pid);
  cluster?.addDrill(child.pid);
  return { runId, runDir, files, ledger, ...(network ? { network } : {}), child };
}

/** A drill launched ahead of its turn that will not run (Ctrl-C, --fail-fast): its process stopped, its run dir and ledger removed. */
async function cancelLaunched(launched: LaunchedDrill): Promise<void> {
  writeFileSync(launched.files.interrupt, 'not run');
  const timer = setTimeout(() => launched.child.kill('SIGKILL'), 10_000);
  await launched.child.exited;
  clearTimeout(timer);
  // Before its start file the drill created nothing; anything recorded is reaped as after any drill.
  const reaped = await reapRecorded(launched.ledger.read().resources);
  if (reaped.left.length > 0) return;
  launched.ledger.remove();
  await rm(launched.runDir, { recursive: true, force: true });
}

async function runOne(
  loaded: LoadedScenario,
  options: RunOptions,
  signingKey: SigningKey | undefined,
  interrupts: InterruptHandler,
  runbook: RunbookRecord | undefined,
  display: { inPlaceProgress: boolean; onProvisioned?: () => void },
  manual: Record<number, string> | undefined,
  cluster?: SharedCluster,
  ahead?: LaunchedDrill,
): Promise<SuiteEntry> {
  // A drill launched ahead of its turn starts now: its process's boot was not its time.
  const started = performance.now();
  const name = loaded.scenario.name;
  const launch = ahead ?? (await launchDrill(loaded, options, runbook, manual, cluster, await drillNetworkPlan(loaded.scenario, { ...process.env, ...clusterEnvOf(cluster) }), false));
  const { runId, runDir } = launch;
  const facts = () => ({ scenario: name, file: shownPath(loaded.file), runId, runDir, durationMs: Math.ceil(performance.now() - started) });
  // What this process prints and writes goes through the Redactor of the scenario's ${VAR} values;
  // the drill process has its own, which also knows the secrets created while it runs.
  const redactor = scenarioRedactor(loaded.environment);
  const say = (line: string) => console.log(redactor.redact(line));
  const complain = (line: string) => console.error(redactor.redact(line));
  say(`drill ${name}: run ${runId}`);
  if (cluster) say(`drill ${name}: on shared control plane ${cluster.name} (DRILL_KUBECONFIG ${cluster.kubeconfig})`);
  if ('failed' in launch) return unrunDrillEntry(launch.failed, facts(), redactor);
  const { files, ledger, network, child } = launch;
  if (ahead) writeFileSync(files.start, '');

  const printer = new ProgressPrinter(files.progress, redactor.redact(`[${name}]`), (text) => redactor.redact(text), display.inPlaceProgress, display.onProvisioned);
  printer.start();
  interrupts.watch(child, files.interrupt);
  const exit = await child.exited;
  interrupts.unwatch(child);
  printer.stop();
  // The drill process redacts what it writes; vitest's own lines in the log are redacted here.
  redactRunnerLog(files.runnerLog, redactor);

  // Whatever the drill could not stop itself (killed, crashed) is stopped here; but not under a
  // drill worker that outlived its vitest, which may still be tearing down.
  const running = await ownersStillRunning(ledger, OUTLIVING_WORKER_GRACE_MS);
  // Objects in the shared control plane (the drill's namespace) go with it when it stops; this
  // process, outside its drill network, could not reach its API anyway.
  const recorded = ledger.read().resources;
  const inSharedCluster = recorded.filter((r) => cluster !== undefined && 'kubeconfig' in r && r.kubeconfig === cluster.kubeconfig);
  const reaped = running.length > 0
    ? { removed: [], left: running.map((o) => ({ what: `${o.role} pid ${o.pid}`, reason: 'still running after vitest exited' })) }
    : await reapRecorded(recorded.filter((r) => !inSharedCluster.includes(r)));
  // The drill network (netns, guard route) is this command's, in the ledger too: the reaper removes
  // it after the drill's processes, and it is not something the drill left.
  const leftByDrill = reaped.removed.filter((what) => !network || !ownNetworkEntry(what, network.name));
  if (leftByDrill.length > 0) say(`drill ${name}: cleaned up what the drill left: ${leftByDrill.join(', ')}`);
  for (const l of reaped.left) complain(`drill ${name}: could not remove ${l.what}: ${l.reason} (kept in ${ledger.file}; \`npx drill cleanup\` retries)`);
  // Kept until then: a kill before this point leaves the journal to the next reaper, which writes the evidence.
  const finished = () => {
    if (reaped.left.length > 0) return;
    if (cluster && inSharedCluster.length > 0) cluster.removeWithIt(ledger);
    else ledger.remove();
  };

  if (!existsSync(files.journal)) {
    const status: RunStatus = interrupts.requested ? 'interrupted' : 'environment-error';
    complain(`drill ${name}: the drill process ended (${exit.signal ?? `exit ${exit.code}`}) without writing a journal.`);
    complain(tail(files.runnerLog));
    complain(`See ${files.runnerLog}; run with DEBUG=drill:* for detail.`);
    finished();
    const why = `the drill process ended (${exit.signal ?? `exit ${exit.code}`}) without writing a journal; see ${files.runnerLog}`;
    return entryWithoutJournal(facts(), status, exitCodeFor(status), { code: status === 'interrupted' ? 'INTERRUPTED' : 'NO_JOURNAL', message: redactor.redact(why) });
  }
  const journal = JSON.parse(readFileSync(files.journal, 'utf8')) as Journal;
  // Last: the manifest covers every file of the run dir, so nothing may be written there after it.
  await writeEvidence(runDir, { redactor, ...(signingKey ? { signingKey } : {}) });
  finished();
  printSummary(journal, runDir, signingKey, say);
  return entryFromJournal(journal, facts(), exitCodeFor(journal.status ?? 'environment-error'));
}

/** How long a drill worker may outlive its vitest before its leftovers are left to `drill cleanup`. */
const OUTLIVING_WORKER_GRACE_MS = 10_000;

async function ownersStillRunning(ledger: RunLedger, graceMs: number): Promise<ReturnType<RunLedger['liveOwners']>> {
  const deadline = Date.now() + graceMs;
  let live = ledger.liveOwners();
  while (live.length > 0 && Date.now() < deadline) {
    await sleep(200);
    live = ledger.liveOwners();
  }
  return live;
}

function printSummary(journal: Journal, runDir: string, signingKey: SigningKey | undefined, say: (line: string) => void): void {
  const name = journal.scenario.definition.name;
  for (const v of journal.verdicts) say(`  ${v.status === 'passed' ? 'PASS' : 'FAIL'} ${v.check}: ${v.message}`);
  if (journal.error) say(`  ${journal.status === 'interrupted' ? 'INTERRUPTED' : 'ERROR'}: ${journal.error.message}`);
  for (const e of journal.events.filter((x) => x.kind === 'teardown-failed')) say(`  TEARDOWN: ${e.message}`);
  const m = journal.measurements;
  const parts = [
    m.rtoMs !== undefined ? `RTO ≤ ${formatDurationBound(m.rtoMs, 'up')}` : undefined,
    m.rpoMs !== undefined ? `RPO ${formatDuration(m.rpoMs)}` : undefined,
    m.lostWrites !== undefined ? `${m.lostWrites} lost writes` : undefined,
  ].filter(Boolean);
  say(`drill ${name}: ${journal.status?.toUpperCase()}${parts.length ? ` (${parts.join(', ')})` : ''}`);
  const shown = path.relative(process.cwd(), runDir) || runDir;
  say(`  report: ${shown}/ (journal.json, incident-report.md, allure-results/, evidence/)`);
  say(
    signingKey
      ? `  evidence: signed (Ed25519, ${signingKey.fingerprint}); check: npx drill verify-evidence ${shown} --public-key <the signer's .pub>`
      : `  evidence: NOT signed (origin not provable); set ${SIGNING_KEY_ENV} to sign (npx drill keygen)`,
  );
}

/** runner.log rewritten through the Redactor, when that changes it (vitest prints what the drill does not control). */
function redactRunnerLog(file: string, redactor: Redactor): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const redacted = redactor.redact(text);
  if (redacted !== text) writeFileSync(file, redacted);
}

/** The reaper's words for this command's own drill network (src/targets/network/reap-network.ts). */
function ownNetworkEntry(what: string, netns: string): boolean {
  return what === `netns ${netns}` || what.startsWith(`guard route ${GUARD_CIDR} `);
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
  /** The drills running now (several with --parallel), each with its interrupt file. */
  private readonly running = new Map<DrillProcess, string>();
  private firstAt = 0;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (!this.requested) {
      this.requested = true;
      this.firstAt = Date.now();
      console.error(`\ndrill: ${signal}: stopping the drill${this.running.size > 1 ? 's' : ''} and running teardown (again to force)…`);
      for (const file of this.running.values()) writeFileSync(file, signal);
      return;
    }
    // One keypress can arrive twice (the terminal, and npx forwarding it): that is not a second Ctrl-C.
    if (Date.now() - this.firstAt < 1000) return;
    if (this.running.size === 0) {
      console.error('drill: forced exit; what a drill left is removed by `npx drill cleanup` or the next `drill run`');
      process.exit(130);
    }
    console.error('drill: forcing: killing the drill; leftovers will be reaped');
    for (const child of this.running.keys()) child.kill('SIGKILL');
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  watch(child: DrillProcess, interruptFile: string): void {
    this.running.set(child, interruptFile);
    if (this.requested) writeFileSync(interruptFile, 'SIGINT');
  }

  /**
   * The run dir is about to be sealed (its manifest covers every file): a late Ctrl-C must not
   * write into it. `requested` still stops the next drill.
   */
  unwatch(child: DrillProcess): void {
    this.running.delete(child);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
