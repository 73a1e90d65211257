import { closestMatch } from '../scenario/did-you-mean.js';
import type { Runbook } from './types.js';

/** The form of a procedure id (`<section slugs joined by />#<title slug>`), checkable without the runbook. */
export const PROCEDURE_ID_PATTERN = '^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*#[a-z0-9]+(-[a-z0-9]+)*$';

/**
 * The procedure a mistyped or moved id most likely means: the only one with the same title part
 * (its section was renamed or it moved), else the closest id by edit distance.
 */
export function suggestProcedureId(runbook: Runbook, id: string): string | undefined {
  const tail = id.split('#').at(-1);
  const sameTail = runbook.procedures.filter((p) => p.id.split('#').at(-1) === tail);
  if (sameTail.length === 1) return sameTail[0]!.id;
  return closestMatch(id, runbook.procedures.map((p) => p.id));
}
