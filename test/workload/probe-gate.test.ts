import { describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { ProbeSample } from '../../src/engine/journal-types.js';
import { ProbeGate } from '../../src/workload/probes/probe-gate.js';
import type { ProbeCheck } from '../../src/workload/probes/probe.js';
import { ProbeRunner } from '../../src/workload/probes/probe-runner.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A probe whose check takes `ms` and records when each check ran, on the run clock. */
function slowProbe(ms: number, clock: { now(): number }, ran: Array<{ from: number; to: number }>): ProbeCheck {
  return {
    name: 'slow',
    service: true,
    intervalMs: 5,
    timeoutMs: 1000,
    async check() {
      const from = clock.now();
      await sleep(ms);
      ran.push({ from, to: clock.now() });
    },
    async close() {},
  };
}

describe('ProbeGate', () => {
  it('while held, the sample in flight finishes first and no sample runs; held samples are timed when they start', async () => {
    const clock = startClock();
    const gate = new ProbeGate();
    const ran: Array<{ from: number; to: number }> = [];
    const samples: ProbeSample[] = [];
    const runner = new ProbeRunner([slowProbe(30, clock, ran)], clock, (s) => samples.push(s), gate);
    runner.start();
    await sleep(10); // a check is in flight
    let held: { from: number; to: number } | undefined;
    await gate.holdWhile(async () => {
      const from = clock.now();
      await sleep(100);
      held = { from, to: clock.now() };
    });
    await sleep(60);
    await runner.stop();

    expect(held).toBeDefined();
    // Nothing ran while the gate was held...
    expect(ran.filter((r) => r.to > held!.from && r.from < held!.to)).toEqual([]);
    // ...the check in flight when it was asked for had finished first, and sampling went on after.
    expect(ran.some((r) => r.to <= held!.from)).toBe(true);
    expect(samples.some((s) => s.t >= held!.to)).toBe(true);
    expect(samples.filter((s) => s.t > held!.from && s.t < held!.to)).toEqual([]);
  });

  it('negative control: without a hold the probe keeps sampling through the same time', async () => {
    const clock = startClock();
    const ran: Array<{ from: number; to: number }> = [];
    const runner = new ProbeRunner([slowProbe(30, clock, ran)], clock, () => undefined, new ProbeGate());
    runner.start();
    await sleep(10);
    const from = clock.now();
    await sleep(100);
    const to = clock.now();
    await runner.stop();
    expect(ran.filter((r) => r.to > from && r.from < to).length).toBeGreaterThan(0);
  });

  it('a runner stopped while the gate is held ends once it opens', async () => {
    const clock = startClock();
    const gate = new ProbeGate();
    const runner = new ProbeRunner([slowProbe(5, clock, [])], clock, () => undefined, gate);
    runner.start();
    let stopped = false;
    await gate.holdWhile(async () => {
      await sleep(20);
      void runner.stop().then(() => (stopped = true));
      await sleep(20);
    });
    await sleep(50);
    expect(stopped).toBe(true);
  });
});
