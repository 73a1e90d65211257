import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import type { LoadedScenario } from '../../src/scenario/loader.js';

/**
 * A journal recorder for a drill a test assembles by hand, whose Redactor also hands every secret
 * registered with it to the test (by what it is), so the test can look for the values themselves
 * in what the run wrote.
 */
export function capturingRecorder(runId: string, loaded: LoadedScenario): { recorder: JournalRecorder; secrets: Map<string, string> } {
  const recorder = new JournalRecorder(startClock(), runId, loaded);
  const secrets = new Map<string, string>();
  const register = recorder.secrets.register.bind(recorder.secrets);
  recorder.secrets.register = (value, what) => {
    if (value) secrets.set(what, value);
    register(value, what);
  };
  return { recorder, secrets };
}
