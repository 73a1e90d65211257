import { serviceSamples } from '../../assertions/probes.js';
import { formatDuration } from '../../scenario/duration.js';
import { causesOutage } from '../../scenario/fault-effects.js';
import { sleep } from '../clock.js';
import type { PhaseTask } from './phase-task.js';

/**
 * Waits for the first failing service probe sample at or after T_fault, up to `detect.timeout`.
 * Faults that take nothing down (a leaked credential) are not waited for: no probe can see them.
 */
export const detectPhase: PhaseTask = {
  name: 'detect',
  title: 'Detect',
  abortable: true,
  async run(run) {
    const { clock, journal, scenario } = run;
    const tFault = journal.marks.tFault!.t;
    if (!causesOutage(scenario)) {
      run.recorder.event('detection-not-applicable', 'the fault takes nothing down (a leaked credential, a broken link to asynchronous replicas): no service probe can detect it; the runbook starts at once');
      return { detected: false, applicable: false };
    }
    const deadline = clock.now() + scenario.detect.timeout;
    while (clock.now() < deadline) {
      const failing = serviceSamples(journal, tFault).find((s) => !s.ok);
      if (failing) {
        journal.marks.tDetected = { t: failing.t, wall: clock.wallAt(failing.t) };
        return { probe: failing.probe, error: failing.error, latencyMs: failing.t - tFault };
      }
      await sleep(50, run.signal);
    }
    run.recorder.event('not-detected', `no service probe failed within ${formatDuration(scenario.detect.timeout)} of the fault`);
    return { detected: false };
  },
};
