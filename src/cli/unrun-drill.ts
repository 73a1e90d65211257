import { asDrillError, DrillError, EnvironmentError } from '../engine/errors.js';
import type { RunStatus } from '../engine/journal-types.js';
import { exitCodeFor } from '../engine/status.js';
import type { Redactor } from '../report/redactor.js';
import { entryWithoutJournal, type SuiteEntry } from '../report/suite-summary.js';
import { printError } from './output.js';

type Facts = Parameters<typeof entryWithoutJournal>[0];

/**
 * A drill of a suite that the CLI could not run or finish (its run dir, its drill network, its
 * evidence) as its summary entry, printed once through the scenario's Redactor like every other line
 * of the drill. Once the suite has started, nothing is refused as input any more (DESIGN.md §6:
 * exit 2 only before anything starts): what went wrong is the machine's, so an input-kind error
 * counts as an environment error (exit 3), and its "Nothing was started." no longer holds.
 */
export function unrunDrillEntry(error: unknown, facts: Facts, redactor: Redactor): SuiteEntry {
  const e = duringSuite(asDrillError(error));
  // An unexpected error keeps its stack in the output; a typed one is printed as it now counts.
  printError(error instanceof DrillError ? e : error, (text) => redactor.redact(text));
  const status: RunStatus = e.kind === 'interrupted' ? 'interrupted' : 'environment-error';
  return entryWithoutJournal(facts, status, exitCodeFor(status), { code: e.code, message: redactor.redact(e.message) });
}

function duringSuite(e: DrillError): DrillError {
  if (e.kind !== 'input') return e;
  return new EnvironmentError(e.code, e.message.replace(/\s*Nothing was started\./g, '').trim(), { cause: e });
}
