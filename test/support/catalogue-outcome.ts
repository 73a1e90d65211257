import type { RunStatus } from '../../src/engine/journal-types.js';

/**
 * The tag a CI gate excludes (`drill run drills/scenarios --exclude-tag negative-control`): a
 * scenario carries it exactly when the suite expects it to FAIL. A negative control that passed,
 * or a drill expected to pass that failed, makes the gate run the wrong set.
 */
export const NEGATIVE_CONTROL = 'negative-control';

/** Why a judged outcome contradicts the scenario's tag; undefined when they agree or nothing was judged. */
export function negativeControlDisagreement(name: string, tags: readonly string[], status: RunStatus | undefined): string | undefined {
  const negative = tags.includes(NEGATIVE_CONTROL);
  if (status === 'passed' && negative) {
    return `${name} is tagged ${NEGATIVE_CONTROL} but PASSED: a negative control must fail (or the tag is wrong, and a gate with --exclude-tag ${NEGATIVE_CONTROL} skips a drill that should run)`;
  }
  if (status === 'failed' && !negative) {
    return `${name} FAILED but is not tagged ${NEGATIVE_CONTROL}: if failing is what the suite expects, tag it (a gate with --exclude-tag ${NEGATIVE_CONTROL} would run it and always fail)`;
  }
  return undefined;
}
