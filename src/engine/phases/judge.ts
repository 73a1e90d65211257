import { judge } from '../../assertions/index.js';
import type { PhaseTask } from './phase-task.js';

/** Every assertion that applies, over the journal alone (src/assertions/judge.ts); its status is the drill's. */
export const judgePhase: PhaseTask = {
  name: 'judge',
  title: 'Judge',
  // Reads only the journal: nothing to wait for.
  abortable: false,
  async run(run) {
    const { journal } = run;
    const judgement = judge(journal);
    journal.verdicts = judgement.verdicts;
    journal.measurements = judgement.measurements;
    run.status = judgement.status;
    return { status: run.status, failed: judgement.verdicts.filter((v) => v.status === 'failed').map((v) => v.check) };
  },
};
