import type { RunbookRecord } from '../engine/journal-types.js';
import type { Scenario } from '../scenario/schema.js';
import { scenarioScope } from './scope.js';
import type { Runbook } from './types.js';

/**
 * What a drill records of the runbook it follows: the hash of every procedure in its scope, so
 * `drill coverage` can tell later whether the text it was drilled on is still the text.
 */
export function runbookRecord(runbook: Runbook, scenario: Pick<Scenario, 'runbook' | 'covers'>): RunbookRecord {
  const scope = scenarioScope(runbook, scenario);
  return {
    file: runbook.file,
    sha256: runbook.sha256,
    sections: scope.sectionIds,
    procedures: Object.fromEntries(scope.procedures.map((p) => [p.id, p.sha256])),
  };
}
