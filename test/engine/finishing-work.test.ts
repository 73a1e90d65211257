import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../../src/engine/errors.js';
import { DrillRun } from '../../src/engine/phases/drill-run.js';
import { runTask, type PhaseTask } from '../../src/engine/phases/phase-task.js';
import type { LoadedScenario } from '../../src/scenario/loader.js';
import { scenarioSchema } from '../../src/scenario/schema.js';

const loaded: LoadedScenario = {
  file: '/nonexistent/finishing.yaml',
  source: '',
  sha256: '0'.repeat(64),
  scenario: scenarioSchema.parse({
    name: 'finishing-work',
    title: 'Work that runs to its end, and the abort',
    runbook: 'Immediate Response: Step 1: Incident Assessment',
    severity: 'P3',
    targets: { service: { version: '4.4.0' } },
    workload: { probes: [{ type: 'http', name: 'health', target: 'service', path: '/health' }] },
    faults: [{ type: 'k8s-pod-kill', selector: 'app=fake' }],
    recovery: [{ step: 'service-restart' }],
    expect: { rto: '60s' },
    timeout: '2m',
  }),
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const task = (work: () => Promise<void>): PhaseTask => ({ title: 'stop the probes and monitors', abortable: false, run: work });

describe('work that is not raced against the abort (stopping the observers, judging)', () => {
  it('runs to its end however long it takes while the drill is not aborted', async () => {
    const run = new DrillRun(loaded, { runId: 'finishing-1', finishGraceMs: 100 });
    let done = false;
    await runTask(run, task(async () => {
      await sleep(400);
      done = true;
    }));
    expect(done).toBe(true);
  });

  it('still ends on its own after an abort, within the grace', async () => {
    const interrupt = new AbortController();
    const run = new DrillRun(loaded, { runId: 'finishing-2', signal: interrupt.signal, finishGraceMs: 1000 });
    let done = false;
    setTimeout(() => interrupt.abort(new InterruptedError()), 50);
    await runTask(run, task(async () => {
      await sleep(300);
      done = true;
    }));
    expect(done).toBe(true);
  });

  it('a hang no longer holds the drill: the abort is thrown once the grace is over, so the teardown runs', async () => {
    const interrupt = new AbortController();
    const run = new DrillRun(loaded, { runId: 'finishing-3', signal: interrupt.signal, finishGraceMs: 300 });
    setTimeout(() => interrupt.abort(new InterruptedError()), 50);
    const started = performance.now();
    // As the monitors' stop was, awaiting a goodbye to a frozen server: it never settles.
    await expect(runTask(run, task(() => new Promise<void>(() => undefined)))).rejects.toBeInstanceOf(InterruptedError);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(340);
    expect(took).toBeLessThan(2000);
  });
});
