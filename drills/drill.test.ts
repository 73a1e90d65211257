/**
 * The vitest entry point of `drill run`: one describe per scenario, one test per drill, each
 * lifecycle phase and runbook step an Allure step with its real duration. The CLI starts this
 * file with a run plan (src/engine/run-plan.ts); it is not part of the unit test suite.
 */
import { appendFileSync, existsSync } from 'node:fs';
import * as allure from 'allure-js-commons';
import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../src/engine/errors.js';
import { runDrill } from '../src/engine/run-drill.js';
import { readPlan, runFiles } from '../src/engine/run-plan.js';
import { labelDrill } from '../src/report/allure-labels.js';
import { summariseVerdicts } from '../src/report/verdict-summary.js';
import { writeRunArtifacts } from '../src/report/write-run-artifacts.js';
import { loadScenarioFile } from '../src/scenario/loader.js';

const plan = readPlan();
if (!plan) throw new Error('drills/drill.test.ts is run by `npx drill run <scenario.yaml>`, which passes it a run plan');
const files = runFiles(plan.runDir);
const loaded = await loadScenarioFile(plan.scenarioFile);
const scenario = loaded.scenario;

describe(scenario.runbook, () => {
  it(`${scenario.name}: ${scenario.title}`, { timeout: scenario.timeout + 120_000 }, async () => {
    await labelDrill(scenario);
    await allure.parameter('run id', plan.runId);

    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort(new InterruptedError());
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // The CLI asks through a file: it owns the terminal, and signals to a vitest worker are not ours to route.
    const poll = setInterval(() => existsSync(files.interrupt) && onSignal(), 100);

    const journal = await runDrill(loaded, {
      runId: plan.runId,
      resourceLedgerFile: files.resources,
      runDir: plan.runDir,
      signal: interrupt.signal,
      confirmDataLoss: plan.confirmDataLoss,
      wrap: (_kind, title, fn) => allure.step(title, () => fn()) as Promise<Awaited<ReturnType<typeof fn>>>,
      progress: (event) => appendFileSync(files.progress, `${JSON.stringify(event)}\n`),
    }).finally(() => {
      clearInterval(poll);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });

    await writeRunArtifacts(plan.runDir, journal);
    await allure.attachmentPath('journal.json', files.journal, { contentType: 'application/json' });
    await allure.attachmentPath('incident-report.md', files.incidentReport, { contentType: 'text/markdown' });
    await allure.attachment('measurements.json', JSON.stringify(journal.measurements, null, 2), 'application/json');
    await allure.attachment(
      'timeline.txt',
      journal.events.map((e) => `${e.wall}  +${(e.t / 1000).toFixed(3)}s  ${e.kind}: ${e.message}`).join('\n'),
      'text/plain',
    );
    for (const verdict of journal.verdicts) {
      // A failed check is a failed Allure step; the test itself fails once, below, with all of them.
      await Promise.resolve(
        allure.step(`check ${verdict.check}: ${verdict.status}`, async (step) => {
          await step.parameter('message', verdict.message);
          if (verdict.status === 'failed') throw new Error(verdict.message);
        }),
      ).catch(() => undefined);
    }

    expect(journal.status, summariseVerdicts(journal)).toBe('passed');
  });
});
