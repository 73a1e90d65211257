import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { splitOfGateDrill } from '../../bench/gate-split.js';

// A real journal: `drill run drills/scenarios/net-replica-link-loss.yaml` on this machine (passed;
// summary.json durationMs 32659). It has every phase, a 4 s `wait` step, and the service back
// (stableFrom 17588.1) before the runbook ended (tRecoveryEnd 21488.62).
const FIXTURE = new URL('../fixtures/gate-bench/net-replica-link-loss.journal.json', import.meta.url);
const real = (): Journal => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Journal;
const TOTAL_MS = 32_659;
// The newest file of its run dir was written 300 ms after the journal ended.
const lastWritten = (j: Journal) => Date.parse(j.endedAt!) + 300;

const sumOf = (o: Record<string, number | undefined>, skip = 'total') => Object.entries(o).reduce((s, [k, v]) => (k === skip ? s : s + (v ?? 0)), 0);

describe('bench:gate, where a drill of the gate spent its time (a real journal)', () => {
  it('waits from the scenario in the journal, system from T_fault to back and done, overhead the rest', () => {
    const split = splitOfGateDrill(real(), TOTAL_MS, lastWritten(real()));
    // steadyState 3s and stability 2s as the scenario sets them; the wait step as it lasted (12000.498..16001.827).
    expect(split.waitsMs).toEqual({ steadyState: 3000, stability: 2000, waitSteps: 4001, total: 9001 });
    // T_fault 11990.923 to the end of recovery 21488.62 (after the restored instant), less the wait step.
    expect(split.systemMs).toBe(Math.round(21488.62 - 11990.923 - (16001.827 - 12000.498)));
    expect(split.overheadMs.total).toBe(TOTAL_MS - split.waitsMs.total - split.systemMs);
    expect(split.overheadMs).toMatchObject({
      provision: Math.round(7929.563 - 0.523),
      baselineBeyondSteadyState: Math.round(11990.245 - 7929.964 - 3000),
      injectBeforeFault: Math.round(11990.923 - 11990.39),
      // verify ended 23784.73; the stability window after back-and-done ended at 23488.62.
      verifyBeyondStability: Math.round(23784.73 - (21488.62 + 2000)),
      judge: Math.round(23789.558 - 23786.206),
      teardown: Math.round(24527.549 - 23789.799),
      afterJournal: 300,
    });
    // Every millisecond is in exactly one part.
    expect(sumOf(split.overheadMs)).toBe(split.overheadMs.total);
    expect(split.waitsMs.total + split.systemMs + split.overheadMs.total).toBe(TOTAL_MS);
    expect(split.scenarioStepsMs).toEqual({ baselineLoad: 0, verifySteps: 0, total: 0 });
    // The drill process started ~8 s before its journal's clock (run id 16:29:07Z, journal 16:29:15.250Z).
    expect(split.overheadMs.beforeJournal).toBeGreaterThan(5000);
    expect(split.phasesMs).toEqual({ provision: 7929, baseline: 4060, inject: 10, detect: 0, recover: 9488, verify: 2296, judge: 3, teardown: 738 });
  });

  it('reads the waits from the scenario, never a constant: other values there, other waits', () => {
    const journal = real();
    journal.scenario.definition.baseline.steadyState = 7000;
    journal.scenario.definition.expect.stability = 1000;
    const split = splitOfGateDrill(journal, TOTAL_MS);
    expect(split.waitsMs).toMatchObject({ steadyState: 7000, stability: 1000, waitSteps: 4001 });
    // The baseline phase lasted 4060 ms: none of it is overhead when the scenario asks for more.
    expect(split.overheadMs.baselineBeyondSteadyState).toBe(0);
    expect(split.overheadMs.afterJournal).toBeUndefined();
  });

  it("the scenario's own load test and validation steps are neither overhead nor counted twice", () => {
    const journal = real();
    const stamp = (t: number) => ({ t, wall: new Date(Date.parse(journal.startedAt) + t).toISOString() });
    const run = (phase: 'baseline' | 'verify', from: number, to: number) => ({ phase, start: stamp(from), end: stamp(to) }) as NonNullable<Journal['load']>[number];
    // A 600 ms baseline load inside the baseline (7929.964..11990.245), and a verify-phase load run
    // inside the 250 ms `load` validation step after the stability window (23488.62..23784.73).
    journal.load = [run('baseline', 10000, 10600), run('verify', 23510, 23700)];
    journal.verifications = [{ name: 'load', title: 'Load', start: stamp(23500), end: stamp(23750), status: 'passed' }] as Journal['verifications'];
    const plain = splitOfGateDrill(real(), TOTAL_MS, lastWritten(real()));
    const split = splitOfGateDrill(journal, TOTAL_MS, lastWritten(journal));
    expect(split.scenarioStepsMs).toEqual({ baselineLoad: 600, verifySteps: 250, total: 850 });
    expect(split.overheadMs.baselineBeyondSteadyState).toBe(plain.overheadMs.baselineBeyondSteadyState - 600);
    expect(split.overheadMs.verifyBeyondStability).toBe(plain.overheadMs.verifyBeyondStability - 250);
    expect(split.overheadMs.total).toBe(plain.overheadMs.total - 850);
    expect(sumOf(split.overheadMs)).toBe(split.overheadMs.total);
    expect(split.waitsMs.total + split.systemMs + split.scenarioStepsMs.total + split.overheadMs.total).toBe(TOTAL_MS);
  });

  it('restored after the runbook ended: the system time runs to the restored instant', () => {
    const journal = real();
    journal.phases.find((p) => p.name === 'verify')!.output = { stableFrom: 22000 };
    const split = splitOfGateDrill(journal, TOTAL_MS);
    expect(split.systemMs).toBe(Math.round(22000 - 11990.923 - 4001.329));
    // The window 22000..24000 outlasts verify (23784.73): nothing after it is counted twice.
    expect(split.overheadMs.verifyBeyondStability).toBe(0);
  });

  it('never seen back: no stability window, the wait for the service is the system', () => {
    const journal = real();
    journal.phases.find((p) => p.name === 'verify')!.output = {};
    const split = splitOfGateDrill(journal, TOTAL_MS);
    expect(split.waitsMs.stability).toBe(0);
    expect(split.systemMs).toBe(Math.round(23784.73 - 11990.923 - 4001.329));
    expect(split.overheadMs.total).toBe(TOTAL_MS - split.waitsMs.total - split.systemMs);
  });

  it('stopped before the fault: no system time, the whole drill is steady state and overhead', () => {
    const journal = real();
    journal.phases = journal.phases.filter((p) => ['provision', 'baseline', 'teardown'].includes(p.name));
    journal.steps = [];
    journal.marks = {};
    const split = splitOfGateDrill(journal, TOTAL_MS);
    expect(split.systemMs).toBe(0);
    expect(split.waitsMs).toEqual({ steadyState: 3000, stability: 0, waitSteps: 0, total: 3000 });
    expect(split.overheadMs.total).toBe(TOTAL_MS - 3000);
  });
});
