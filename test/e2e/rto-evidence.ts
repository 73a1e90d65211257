import { expect } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';

/**
 * Checks a real journal's RTO against DESIGN.md section 4 from the raw samples, computed another
 * way than src/assertions does: for each service probe its first passing sample after its last
 * failure; the restored instant is the latest of those (and of the end of the step the scenario
 * says restores the service), and no service sample fails in the stability window after it.
 */
export function expectConservativeRto(journal: Journal, restoringStepName: string): void {
  const tFault = journal.marks.tFault!.t;
  const rtoMs = journal.measurements.rtoMs!;
  const restoredAt = tFault + rtoMs;
  const stability = journal.scenario.definition.expect.stability;
  const service = journal.probes.filter((p) => p.service && p.t >= tFault).sort((a, b) => a.t - b.t);
  expect(service.filter((p) => !p.ok && p.t >= restoredAt && p.t <= restoredAt + stability), 'a service sample failed in the stability window').toEqual([]);

  const firstPasses: number[] = [];
  for (const name of new Set(service.map((p) => p.probe))) {
    const own = service.filter((p) => p.probe === name && p.t <= restoredAt + stability);
    const lastFailure = own.filter((p) => !p.ok).at(-1);
    const firstPass = own.find((p) => p.ok && (lastFailure === undefined || p.t > lastFailure.t));
    expect(firstPass, `probe ${name} never passed again`).toBeDefined();
    expect(restoredAt, `RTO ends before probe ${name} first passed again (T_fault+${firstPass!.t - tFault} ms)`).toBeGreaterThanOrEqual(firstPass!.t);
    firstPasses.push(firstPass!.t);
  }
  const restoring = journal.steps.find((s) => s.name === restoringStepName);
  expect(restoring?.end, `${restoringStepName} never ended`).toBeDefined();
  expect(restoredAt, `RTO ends before ${restoringStepName} ended`).toBeGreaterThanOrEqual(restoring!.end!.t);
  // Conservative, not padded: exactly the latest of those instants.
  expect(restoredAt).toBeCloseTo(Math.max(restoring!.end!.t, ...firstPasses), 6);

  // The bracket: the true restoration lies after the last failing sample before the restored instant.
  const lastFailureBefore = service.filter((p) => !p.ok && p.t < restoredAt).at(-1);
  expect(journal.measurements.rtoLowerBoundMs).toBeCloseTo((lastFailureBefore?.t ?? tFault) - tFault, 6);
  expect(journal.measurements.rtoUncertaintyMs).toBeCloseTo(rtoMs - journal.measurements.rtoLowerBoundMs!, 6);
}
