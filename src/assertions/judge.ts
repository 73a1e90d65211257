/**
 * All assertions over one journal, in a fixed order. Pure: the journal is read, never changed,
 * and the same journal always yields the same judgement.
 */
import type { Journal, Measurements, Verdict } from '../engine/journal-types.js';
import type { Assessment } from './assessment.js';
import { assessDetection } from './detection.js';
import { assessIntegrity } from './integrity.js';
import { assessPerformance, scenarioHasLoadCheck } from './performance.js';
import { assessSmoke, scenarioHasSmoke } from './smoke.js';
import { assessRecoverySteps } from './recovery-steps.js';
import { assessRpo } from './rpo.js';
import { assessRto } from './rto.js';
import { assessSteadyState } from './steady-state.js';
import { assessRevocation } from './revocation.js';
import { assessBlastRadius } from './blast-radius.js';
import { assessNotification, scenarioNotifies } from './notification.js';
import { assessForensics, scenarioPreservesForensics } from './forensics.js';
import { assessArchiving, scenarioBreaksArchiving } from './archiving.js';
import { causesOutage, leaksCredentials } from '../scenario/fault-effects.js';

export interface Judgement {
  verdicts: Verdict[];
  measurements: Measurements;
  status: 'passed' | 'failed';
}

const hasDatabase = (journal: Journal) => journal.scenario.definition.targets.postgres !== undefined;
const always = () => true;
const outage = (journal: Journal) => causesOutage(journal.scenario.definition);
const leak = (journal: Journal) => leaksCredentials(journal.scenario.definition);

/**
 * Each assertion with when it applies: data-loss assertions need a database, smoke and
 * performance a scenario that plans them, detection a fault a service probe can see (a leaked
 * credential takes nothing down), revocation and blast-radius a leaked credential, forensics a
 * scenario that preserves evidence, archiving a fault that broke it.
 */
const ASSERTIONS: ReadonlyArray<{ assess: (journal: Journal) => Assessment; applies: (journal: Journal) => boolean }> = [
  { assess: assessSteadyState, applies: always },
  { assess: assessDetection, applies: outage },
  { assess: assessRto, applies: always },
  { assess: assessRpo, applies: hasDatabase },
  { assess: assessIntegrity, applies: hasDatabase },
  { assess: assessRecoverySteps, applies: always },
  { assess: assessSmoke, applies: scenarioHasSmoke },
  { assess: (journal) => assessPerformance(journal), applies: scenarioHasLoadCheck },
  { assess: (journal) => assessRevocation(journal), applies: leak },
  { assess: assessBlastRadius, applies: leak },
  { assess: assessNotification, applies: scenarioNotifies },
  { assess: assessForensics, applies: scenarioPreservesForensics },
  { assess: assessArchiving, applies: scenarioBreaksArchiving },
];

/** Measurements the engine records while the drill runs, which no assessment recomputes. */
const ENGINE_MEASURED = ['walBytesLost', 'replicationLagMaxBytes', 'replicationLagMaxMs', 'replicationCatchUpMs'] as const;

export function judge(journal: Journal): Judgement {
  const assessments = ASSERTIONS.filter(({ applies }) => applies(journal)).map(({ assess }) => assess(journal));
  // WAL bytes lost and replication lag need LSNs the engine read and the journal does not carry: keep what it recorded.
  const measurements: Measurements = {};
  for (const key of ENGINE_MEASURED) {
    const value = journal.measurements[key];
    if (value !== undefined) measurements[key] = value;
  }
  for (const { measurements: found } of assessments) {
    for (const [key, value] of Object.entries(found)) {
      if (value !== undefined) (measurements as Record<string, unknown>)[key] = value;
    }
  }
  const verdicts = assessments.map(({ verdict }) => verdict);
  return { verdicts, measurements, status: verdicts.every((verdict) => verdict.status === 'passed') ? 'passed' : 'failed' };
}
