import { provisionedParts } from '../../targets/target-parts.js';
import { buildDrillContext } from '../build-context.js';
import type { PhaseTask } from './phase-task.js';

/** The scenario's targets, through the target registry, and the workload wired to them. */
export const provisionPhase: PhaseTask = {
  name: 'provision',
  title: 'Provision',
  abortable: true,
  async run(run) {
    // What the machine must offer a fault that no target provides (a writable cgroup v1 controller): exit 3 before anything starts.
    for (const fault of run.scenario.faults) run.registries.machineNeeds?.(fault);
    // Beside provisioning; awaited after it (a provisioning error is the one reported).
    const loaded = run.registries.load?.(run.scenario);
    loaded?.catch(() => undefined);
    const ctx = await buildDrillContext(run.scenario, {
      runId: run.options.runId,
      scenarioFile: run.loaded.file,
      clock: run.clock,
      recorder: run.recorder,
      signal: run.signal,
      teardown: run.teardown,
      ledger: run.ledger,
      confirmDataLoss: run.options.confirmDataLoss ?? false,
      targetKinds: run.registries.targets,
      ...(run.options.runDir ? { runDir: run.options.runDir } : {}),
    });
    run.context = ctx;
    await loaded;
    // The context stays out of the phase's output: it is not journal material (and holds the journal).
    return provisionedParts(ctx);
  },
};
