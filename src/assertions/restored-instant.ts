/**
 * The restored instant `s` of DESIGN.md section 4, shared by the RTO assertion and the engine's
 * wait for stability (so the drill waits for exactly what the judge will look for).
 *
 * `s` is the first time at which, for every service probe, the most recent sample at or before `s`
 * passed, and no service-probe sample fails in [s, s + stability]. A probe with no sample since
 * its last failure (or since T_fault) has no passing latest sample, so it holds `s` back: silence
 * is not recovery. Equivalently, `s` is the latest of the probes' first passing samples after
 * their last failures. When the scenario names the runbook step that restores the service,
 * `s` is also not before that step ended (until then the runbook has not restored it, e.g.
 * writes are still stopped).
 */
import type { ActivityRecord, Journal, ProbeSample } from '../engine/journal-types.js';

export interface RestoredInstant {
  /** `s` on the run clock. */
  at: number;
  /** [s, s + stability]: observed by every service probe, no failing sample in it. */
  window: { start: number; end: number };
  /**
   * The last failing service sample before `s` (after T_fault): the true restoration lies after
   * it and at or before `s`. Undefined when no sample failed before `s`.
   */
  lastFailureBefore?: ProbeSample;
  /** What set `s`: the probe whose first passing sample after its last failure came last, or the restoring step. */
  boundBy: { probe: string } | { step: string };
}

export interface RestoredSearch {
  restored?: RestoredInstant;
  /** The last failing sample seen (for messages when there is no restored instant). */
  lastFailure?: ProbeSample;
  /**
   * With no restored instant yet: the window every service probe has passed since, which becomes
   * the restored one once every probe has sampled at or past its end without a failure in it.
   */
  pending?: { start: number; end: number };
}

/** The end of the step that restores the service, when the scenario names one. */
export interface RestoringStep {
  step: string;
  /** Its end on the run clock; undefined while it has not ended (then nothing is restored yet). */
  end: number | undefined;
}

/**
 * Finds `s` in `samples` (service samples at/after T_fault, in time order, stable for equal
 * times). The window counts as observed once every probe has a sample at or after its end: a
 * probe's samples are taken one after the other, so by then every sample of it inside the window
 * is known. A failure exactly at the window's end is inside it (the interval is closed).
 */
export function findRestoredInstant(
  samples: readonly ProbeSample[],
  probeNames: readonly string[],
  stability: number,
  restoringStep?: RestoringStep,
): RestoredSearch {
  if (probeNames.length === 0) return { lastFailure: samples.filter((s) => !s.ok).at(-1) };
  if (restoringStep && restoringStep.end === undefined) return { lastFailure: samples.filter((s) => !s.ok).at(-1) };
  const notBefore = restoringStep?.end ?? -Infinity;

  const latestOk = new Map<string, boolean>();
  let lastFailure: ProbeSample | undefined;
  // Since when every probe's latest sample has passed with no failure in between.
  let since: { t: number; probe: string; lastFailureBefore?: ProbeSample } | undefined;
  const observedToEnd = new Set<string>();

  for (let i = 0; i < samples.length; ) {
    const t = samples[i]!.t;
    let j = i;
    while (j < samples.length && samples[j]!.t === t) j++;
    const group = samples.slice(i, j);
    i = j;
    // By probe name, so which of two failures at one instant is named never depends on journal order.
    const failing = group.filter((s) => !s.ok).sort((a, b) => a.probe.localeCompare(b.probe));

    if (since) {
      const start = Math.max(since.t, notBefore);
      const end = start + stability;
      if (t > end || (t === end && failing.length === 0)) {
        // Past the window: what happens now does not change it; wait until every probe got here.
        for (const sample of group) observedToEnd.add(sample.probe);
        if (failing.length) lastFailure = failing.at(-1);
        if (probeNames.every((name) => observedToEnd.has(name))) {
          const boundBy = start > since.t ? { step: restoringStep!.step } : { probe: since.probe };
          return {
            restored: { at: start, window: { start, end }, ...(since.lastFailureBefore ? { lastFailureBefore: since.lastFailureBefore } : {}), boundBy },
            lastFailure,
          };
        }
        continue;
      }
    }

    const wasPassing = new Set(probeNames.filter((name) => latestOk.get(name) === true));
    // Two samples of one probe at one instant: a failure wins, whatever their order in the journal.
    const groupOk = new Map<string, boolean>();
    for (const sample of group) groupOk.set(sample.probe, (groupOk.get(sample.probe) ?? true) && sample.ok);
    for (const [probe, ok] of groupOk) latestOk.set(probe, ok);
    if (failing.length) {
      lastFailure = failing.at(-1);
      since = undefined;
      observedToEnd.clear();
      continue;
    }
    if (!since && probeNames.every((name) => latestOk.get(name) === true)) {
      // The probe that held `s` back: one whose latest sample was not passing before this instant.
      const probe = group.find((s) => !wasPassing.has(s.probe) && probeNames.includes(s.probe))?.probe ?? group[0]!.probe;
      since = { t, probe, ...(lastFailure ? { lastFailureBefore: lastFailure } : {}) };
    }
  }
  if (!since) return { lastFailure };
  const start = Math.max(since.t, notBefore);
  return { lastFailure, pending: { start, end: start + stability } };
}

/**
 * The step that restores the service (`restoresService: true` in the scenario), matched to the
 * journal's step records by position (one record per planned step, run or skipped). With several,
 * the last one planned. Undefined when the scenario names none.
 */
export function restoringStep(journal: Pick<Journal, 'scenario' | 'steps'>): RestoringStep | undefined {
  const planned = journal.scenario.definition.recovery;
  for (let index = planned.length - 1; index >= 0; index--) {
    if (!planned[index]!.restoresService) continue;
    const record: ActivityRecord | undefined = journal.steps[index];
    return { step: planned[index]!.step, end: record?.end?.t };
  }
  return undefined;
}
