import { serviceSamples } from '../../assertions/probes.js';
import { formatDuration } from '../../scenario/duration.js';
import { sleep } from '../clock.js';
import type { PhaseTask } from './phase-task.js';

/** Waits for the first failing service probe sample at or after T_fault, up to `detect.timeout`. */
export const detectPhase: PhaseTask = {
  name: 'detect',
  title: 'Detect',
  abortable: true,
  async run(run) {
    const { clock, journal, scenario } = run;
    const tFault = journal.marks.tFault!.t;
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
