import { judge } from '../../src/assertions/judge.js';
import type { Journal } from '../../src/engine/journal-types.js';
import type { JournalBuilder } from '../assertions/journal-builder.js';

/** A journal as the drill writes it: the builder's facts, judged by the real judge, under `name`. */
export function judged(builder: JournalBuilder, name: string): Journal {
  const journal = builder.build();
  journal.scenario.definition = { ...journal.scenario.definition, name };
  const j = judge(journal);
  return { ...journal, verdicts: j.verdicts, measurements: j.measurements, status: j.status };
}

/** The suite facts of a catalogue drill (file, run id and dir) that a suite entry carries beside its journal. */
export const suiteFacts = (scenario: string, durationMs: number) => ({
  scenario,
  file: `drills/scenarios/${scenario}.yaml`,
  runId: `20260101T000000Z-${scenario}`,
  runDir: `/r/20260101T000000Z-${scenario}`,
  durationMs,
});
