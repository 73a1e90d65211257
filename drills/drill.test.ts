/**
 * The vitest entry point of `drill run`: one describe per scenario, one test per drill, each
 * lifecycle phase and runbook step an Allure step with its real duration. The CLI starts this
 * file with a run plan (src/engine/run-plan.ts); it is not part of the unit test suite.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as allure from 'allure-js-commons';
import createDebug from 'debug';
import { describe, expect, it } from 'vitest';
// Read before the harness is loaded, to know where from (a module of no dependencies: a second copy is harmless).
import { readPlan } from '../src/engine/run-plan.js';

type Harness = typeof import('../src/engine/drill-entry.js');
// The harness as one prebuilt module when `drill run` made one (src/cli/harness-bundle.ts: about
// half a second less to start than ~500 modules through vitest's transform), else from source.
const bundle = readPlan()?.harnessBundle;
const harness: Harness = bundle ? ((await import(/* @vite-ignore */ bundle)) as Harness) : await import('../src/engine/drill-entry.js');
const {
  InterruptedError,
  FileManualGate,
  gateDirFor,
  ResourceLedger,
  runDrill,
  RunLedger,
  runsDir,
  awaitStartRequest,
  runFiles,
  stillRunning,
  labelDrill,
  environmentProperties,
  FAILURE_LABEL,
  failureLabels,
  measuredParameters,
  redactDebugOutput,
  scenarioRedactor,
  rtoStatement,
  TIMELINE_PNG_FILE,
  TIMELINE_FILE,
  summariseVerdicts,
  writeRunArtifacts,
  loadScenarioFile,
  maskEnvironmentValues,
  receiveVariables,
} = harness;

const plan = readPlan();
if (!plan) throw new Error('drills/drill.test.ts is run by `npx drill run <scenario.yaml>`, which passes it a run plan');
const files = runFiles(plan.runDir);
// The scenario's ${VAR} values come through the parent's pipe, never this process's environment;
// the loader still reads the environment too (KUBECONFIG, the default kubeconfig it checks).
const loaded = await loadScenarioFile(plan.scenarioFile, plan.variablesFromParent ? { variables: receiveVariables() } : {});
// This process creates the drill's resources: it owns the run while it lives, so no reaper takes
// them from under its teardown after its `drill run` was killed.
const runLedger = plan.ledgerFile ? RunLedger.open(plan.ledgerFile) : undefined;
runLedger?.addOwner('drill');
// The run's one Redactor: the recorder owns it (and registers secrets created while the drill runs);
// everything this file hands to Allure, progress.jsonl and runner.log goes through it.
const redactor = scenarioRedactor(loaded.environment);
redactDebugOutput(redactor);
createDebug('drill:bundle')('the harness: %s', bundle ?? 'from source');
// What Allure and vitest show of the scenario: ${VAR} values masked.
const shown = redactor.redactData(maskEnvironmentValues(loaded.scenario, loaded.fromEnvironment));
// Started ahead of its turn: loaded, it waits for the CLI's word (no clock, no target before it).
const cancelled = plan.awaitStart ? (await awaitStartRequest(files, plan.parent)) === 'cancelled' : false;

describe.skipIf(cancelled)(shown.runbook, () => {
  it(`${shown.name}: ${shown.title}`, { timeout: shown.timeout + 120_000 }, async () => {
    await labelDrill(shown);
    // Excluded from the history id: every run has its own, and Allure tracks one drill across runs.
    await allure.parameter('run id', plan.runId, { excluded: true });

    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort(new InterruptedError());
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // The CLI asks through a file: it owns the terminal, and signals to a vitest worker are not ours to route.
    // A killed CLI cannot ask: its absence (pid and start time) is the request, so the drill still tears down.
    const poll = setInterval(() => {
      if (interrupt.signal.aborted) return;
      if (existsSync(files.interrupt)) onSignal();
      else if (plan.parent && !stillRunning(plan.parent)) {
        interrupt.abort(
          new InterruptedError(`the \`drill run\` that started this drill (pid ${plan.parent.pid}) is gone (killed?); the drill stopped itself and teardown ran`, 'RUN_COMMAND_GONE'),
        );
      }
    }, 100);

    // A game day's channel for `drill continue`: a private directory beside the run's ledger, a
    // temp dir of the run (so a reaper removes it after a kill -9), removed when the drill ends.
    const resources = new ResourceLedger(files.resources, runLedger);
    const gate = plan.gameDay ? new FileManualGate(gateDirFor(plan.ledgerFile ?? path.join(runsDir(), `${plan.runId}.jsonl`)), (dir) => resources.record({ kind: 'temp-dir', path: dir })) : undefined;
    const journal = await runDrill(loaded, {
      runId: plan.runId,
      ledger: resources,
      runDir: plan.runDir,
      signal: interrupt.signal,
      confirmDataLoss: plan.confirmDataLoss,
      secrets: redactor,
      ...(plan.runbook ? { runbook: plan.runbook } : {}),
      ...(gate ? { gameDay: gate } : {}),
      ...(plan.manualInstructions ? { manualInstructions: plan.manualInstructions } : {}),
      wrap: (_kind, title, fn) => allure.step(redactor.redact(title), () => fn()) as Promise<Awaited<ReturnType<typeof fn>>>,
      progress: (event) => appendFileSync(files.progress, `${redactor.json(event)}\n`),
    }).finally(() => {
      gate?.remove();
      clearInterval(poll);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });

    // From here on, the journal as written (redacted) is the only source.
    const written = await writeRunArtifacts(plan.runDir, journal, redactor);
    // The measured RTO with its bracket, where a reader of the Allure report looks first.
    const rto = rtoStatement(written);
    if (rto) await allure.parameter('RTO', redactor.redact(rto));
    // Measured vs limit per check, excluded from Allure's history id: they change every run.
    for (const p of measuredParameters(written)) await allure.parameter(p.name, redactor.redact(p.value), { excluded: true });
    for (const kind of failureLabels(written)) await allure.label(FAILURE_LABEL, kind);
    await mkdir(files.allureResults, { recursive: true });
    await writeFile(path.join(files.allureResults, 'environment.properties'), redactor.redact(environmentProperties(written)));
    await allure.attachmentPath('journal.json', files.journal, { contentType: 'application/json' });
    await allure.attachmentPath('incident-report.md', files.incidentReport, { contentType: 'text/markdown' });
    // The picture writeRunArtifacts drew (already redacted); Allure shows image/svg+xml inline.
    await allure.attachmentPath('timeline.svg', path.join(plan.runDir, TIMELINE_FILE), { contentType: 'image/svg+xml' });
    // Its PNG when this machine could draw one (the incident report says why not otherwise).
    const png = path.join(plan.runDir, TIMELINE_PNG_FILE);
    if (existsSync(png)) await allure.attachmentPath(TIMELINE_PNG_FILE, png, { contentType: 'image/png' });
    await allure.attachment('measurements.json', redactor.json(written.measurements, 2), 'application/json');
    await allure.attachment(
      'timeline.txt',
      redactor.redact(written.events.map((e) => `${e.wall}  +${(e.t / 1000).toFixed(3)}s  ${e.kind}: ${e.message}`).join('\n')),
      'text/plain',
    );
    for (const verdict of written.verdicts) {
      const message = redactor.redact(verdict.message);
      // A failed check is a failed Allure step; the test itself fails once, below, with all of them.
      await Promise.resolve(
        allure.step(`check ${verdict.check}: ${verdict.status}`, async (step) => {
          await step.parameter('message', message);
          if (verdict.status === 'failed') throw new Error(message);
        }),
      ).catch(() => undefined);
    }

    expect(written.status, redactor.redact(summariseVerdicts(written))).toBe('passed');
  });
});
