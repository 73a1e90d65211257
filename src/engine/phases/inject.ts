import type { PhaseTask } from './phase-task.js';

/** Each fault of the scenario in turn; T_fault is when the first that is not a precondition was in effect. */
export const injectPhase: PhaseTask = {
  name: 'inject',
  title: 'Inject fault',
  abortable: true,
  async run(run) {
    const { recorder, journal } = run;
    const ctx = run.context;
    const injected: string[] = [];
    for (const fault of run.scenario.faults) {
      run.signal.throwIfAborted();
      const handle = await run.registries.inject(ctx, fault);
      run.teardown.push(`revert ${handle.description}`, async () => {
        await handle[Symbol.asyncDispose]();
      });
      // When the injector saw it in effect, not now: probes may already have hit it.
      if (!journal.marks.tFault && !handle.precondition) recorder.markAt('tFault', handle.inEffectAt);
      recorder.event('fault', handle.description, handle.details);
      injected.push(handle.description);
    }
    return { faults: injected };
  },
};
