import { afterEach, describe, expect, it } from 'vitest';
import { startClock, type Clock } from '../../src/engine/clock.js';
import type { ProbeSample } from '../../src/engine/journal-types.js';
import type { ProbeCheck } from '../../src/workload/probes/probe.js';
import { ProbeRunner } from '../../src/workload/probes/probe-runner.js';

/** A check that takes `busyMs` and notes when each of its runs started and ended on the run clock. */
class TimedCheck implements ProbeCheck {
  readonly runs: { start: number; end: number }[] = [];
  started = 0;
  constructor(
    readonly name: string,
    readonly service: boolean,
    readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly busyMs = 0,
    readonly timeoutMs = 60_000,
  ) {}
  async check(): Promise<void> {
    const start = this.clock.now();
    this.started++;
    if (this.busyMs) await new Promise((resolve) => setTimeout(resolve, this.busyMs));
    this.runs.push({ start, end: this.clock.now() });
  }
  async close(): Promise<void> {}
}

let runner: ProbeRunner | undefined;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

async function until(what: () => boolean, ms = 30_000): Promise<void> {
  const giveUp = Date.now() + ms;
  while (!what()) {
    if (Date.now() > giveUp) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Intervals of a minute: a sample inside the test's time can only be one it asked for.
describe('ProbeRunner.sampleServiceBy: the end of a stability window is observed when it comes, not a probe interval later', () => {
  it('a waiting service probe samples at the time asked for (not before), a non-service probe keeps its interval', async () => {
    const clock = startClock();
    const service = new TimedCheck('api-health', true, 60_000, clock);
    const other = new TimedCheck('metrics', false, 60_000, clock);
    const samples: ProbeSample[] = [];
    runner = new ProbeRunner([service, other], clock, (s) => samples.push(s));
    runner.start();
    await until(() => samples.length === 2);
    const due = clock.now() + 300;
    runner.sampleServiceBy(due);
    await until(() => service.runs.length === 2);
    expect(samples.filter((s) => s.probe === 'api-health').at(-1)!.t).toBeGreaterThanOrEqual(due);
    // Asking again for the same (or an earlier) time adds no sample.
    runner.sampleServiceBy(due);
    runner.sampleServiceBy(due - 100);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(service.runs).toHaveLength(2);
    expect(other.runs).toHaveLength(1);
  });

  it('a service probe with a sample in flight takes the next one as soon as it ends, never two at once', async () => {
    const clock = startClock();
    const slow = new TimedCheck('slow-health', true, 60_000, clock, 500);
    runner = new ProbeRunner([slow], clock, () => undefined);
    runner.start();
    await until(() => slow.started === 1);
    // Whether the first sample is still in flight now or (on a loaded machine) already ended, it started before this.
    runner.sampleServiceBy(clock.now());
    await until(() => slow.runs.length === 2);
    expect(slow.runs[1]!.start).toBeGreaterThanOrEqual(slow.runs[0]!.end);
    // The first sample started before the time asked for, so a second one was due right after it.
    expect(slow.runs[1]!.start - slow.runs[0]!.end).toBeLessThan(30_000);
  });

  it('without being asked, a probe waits out its interval (the control)', async () => {
    const clock = startClock();
    const service = new TimedCheck('api-health', true, 60_000, clock);
    runner = new ProbeRunner([service], clock, () => undefined);
    runner.start();
    await until(() => service.runs.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(service.runs).toHaveLength(1);
  });
});
