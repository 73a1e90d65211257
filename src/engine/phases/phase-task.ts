import type { Marks } from '../journal-types.js';
import type { DrillRun } from './drill-run.js';

/**
 * One piece of the drill lifecycle (DESIGN.md section 7: tasks as `{title, run, teardown}`, the
 * teardown registered first and run in reverse). `runDrill` runs them in order; a phase that
 * throws stops the drill, and teardown runs whatever happened.
 */
export interface PhaseTask {
  /**
   * The phase's name in the journal (`phases[].name`), also its progress line and Allure step;
   * absent for the work between phases, which is no activity of its own.
   */
  readonly name?: string;
  /** The phase's title (journal, progress, Allure), or what the work between phases does. */
  readonly title: string;
  /**
   * Raced against the abort, so Ctrl-C or the timeout never waits for it. Only what touches no
   * target (judging the journal, starting and stopping the observers) runs to its end, and even
   * that no longer than a grace after the abort (DrillRun.finishing).
   */
  readonly abortable: boolean;
  /** Marks set just before the phase starts and once it has ended (recover: tRecoveryStart, tRecoveryEnd). */
  readonly marks?: { readonly before?: keyof Marks; readonly after?: keyof Marks };
  /** Undoes of what `run` starts, pushed onto the drill's teardown before `run`, so a run that fails halfway is undone too. */
  readonly teardown?: ReadonlyArray<{ readonly title: string; run(run: DrillRun): Promise<void> | void }>;
  /** Does the work; what it returns is the phase's output in the journal. */
  run(run: DrillRun): Promise<Record<string, unknown> | void>;
}

export async function runTask(run: DrillRun, task: PhaseTask): Promise<void> {
  for (const undo of task.teardown ?? []) run.teardown.push(undo.title, () => undo.run(run));
  if (task.marks?.before) run.recorder.mark(task.marks.before);
  const work = task.name === undefined ? task.run(run) : run.recorder.activity('phase', task.name, task.title, () => task.run(run));
  await (task.abortable ? run.guard(work) : run.finishing(work));
  if (task.marks?.after) run.recorder.mark(task.marks.after);
}
