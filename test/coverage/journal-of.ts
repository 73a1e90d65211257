import path from 'node:path';
import type { Journal, RunbookRecord } from '../../src/engine/journal-types.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A shipped scenario, as a journal records it. */
export async function shippedScenario(name: string): Promise<Scenario> {
  return (await loadScenarioFile(path.join(ROOT, 'drills/scenarios', `${name}.yaml`), { requireEnv: false })).scenario;
}

export interface RunSpec {
  runId?: string;
  status: Journal['status'];
  endedAt: string;
  /** Per recovery step (by index): its status (default passed) and output. */
  steps?: Array<{ status?: 'passed' | 'failed' | 'skipped'; output?: Record<string, unknown> }>;
  /** Per verify step (by index), likewise; without it the journal has no verifications. */
  verifications?: Array<{ status?: 'passed' | 'failed' | 'skipped'; output?: Record<string, unknown> }>;
  rtoMs?: number;
  rpoMs?: number;
  runbook?: RunbookRecord;
}

/**
 * A journal with what the coverage join reads (scenario, status, times, steps, measurements,
 * verdicts, runbook record); the rest empty. Real journals come from the e2e test.
 */
export function journalOf(definition: Scenario, spec: RunSpec): Journal {
  const ended = Date.parse(spec.endedAt);
  const startedAt = new Date(ended - 60_000).toISOString();
  const stamp = { t: 0, wall: startedAt };
  return {
    journalVersion: 1,
    runId: spec.runId ?? `${spec.endedAt.replace(/[-:]/g, '').slice(0, 15)}-${definition.name}`,
    harness: { name: 'drill', version: 'test', node: process.version, platform: 'test', arch: 'x64', hostname: 'test' },
    components: {},
    scenario: { file: `drills/scenarios/${definition.name}.yaml`, sha256: 'x', definition },
    ...(spec.runbook ? { runbook: spec.runbook } : {}),
    startedAt,
    endedAt: spec.endedAt,
    ...(spec.status ? { status: spec.status } : {}),
    phases: [],
    steps: definition.recovery.map((step, index) => {
      const s = spec.steps?.[index];
      return { name: step.step, title: step.step, start: stamp, end: stamp, status: s?.status ?? 'passed', ...(s?.output ? { output: s.output } : {}) };
    }),
    ...(spec.verifications
      ? {
          verifications: (definition.verify ?? []).map((step, index) => {
            const v = spec.verifications?.[index];
            return { name: step.step, title: step.step, start: stamp, end: stamp, status: v?.status ?? 'passed', ...(v?.output ? { output: v.output } : {}) };
          }),
        }
      : {}),
    events: [],
    probes: [],
    canary: { acks: [], attempts: 0, failures: 0 },
    marks: {},
    measurements: { ...(spec.rtoMs !== undefined ? { rtoMs: spec.rtoMs } : {}), ...(spec.rpoMs !== undefined ? { rpoMs: spec.rpoMs } : {}) },
    verdicts: [
      ...(spec.rtoMs !== undefined ? [{ check: 'rto' as const, status: spec.rtoMs <= definition.expect.rto ? ('passed' as const) : ('failed' as const), message: '' }] : []),
      ...(spec.rpoMs !== undefined ? [{ check: 'rpo' as const, status: spec.rpoMs <= definition.expect.rpo ? ('passed' as const) : ('failed' as const), message: '' }] : []),
    ],
  };
}
