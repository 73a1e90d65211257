import { beforeAll, describe, expect, it } from 'vitest';
import { assessForensics, judge } from '../../src/assertions/index.js';
import type { ActivityRecord, ForensicsRecord, Journal } from '../../src/engine/journal-types.js';
import { DESTROYS_EVIDENCE, destroysEvidence } from '../../src/scenario/destructive-steps.js';
import { loadScenarioFile, type LoadedScenario } from '../../src/scenario/loader.js';
import { deepFreeze, healthyDrill, stamp } from './journal-builder.js';

/**
 * Run clock (ms): T_fault 10000, the credential leaked at 9990; the runbook of
 * security-breach-full-runbook: incident 10100, preserve-forensics 10110-10300, revoke 10300-10500,
 * restart 10500-12000; the files hashed again at 20000.
 */
let loaded: LoadedScenario;
beforeAll(async () => {
  loaded = await loadScenarioFile('drills/scenarios/security-breach-full-runbook.yaml');
});

const SHA = (c: string) => c.repeat(64);
const step = (name: string, from: number, to: number, status: ActivityRecord['status'] = 'passed'): ActivityRecord => ({ name, title: name, start: stamp(from), end: stamp(to), status });
const STEPS = [step('activate-incident-response', 10_100, 10_101), step('preserve-forensics', 10_110, 10_300), step('revoke-all-tokens', 10_300, 10_500), step('service-restart', 10_500, 12_000)];

function record(overrides: Partial<ForensicsRecord> = {}): ForensicsRecord {
  const artifacts = [
    { kind: 'attacker-activity', path: 'forensics/attacker-activity.json', bytes: 900, sha256: SHA('a'), how: 'extract' },
    { kind: 'database-snapshot', path: 'forensics/database-public.sql', bytes: 120_000, sha256: SHA('b'), how: 'pg_dump' },
  ];
  return {
    start: stamp(10_110),
    end: stamp(10_300),
    window: { from: stamp(0), to: stamp(10_110) },
    collector: { user: 'root', host: 'vm', harness: 'drill 0.1.0' },
    requested: ['attacker-activity', 'database-snapshot'],
    artifacts,
    gaps: [],
    recheck: { at: stamp(20_000), files: artifacts.map((a) => ({ path: a.path, sha256: a.sha256 })) },
    ...overrides,
  };
}

function journal(options: { steps?: ActivityRecord[]; forensics?: ForensicsRecord | null } = {}): Journal {
  const base = healthyDrill().build();
  return deepFreeze({
    ...base,
    scenario: { file: loaded.file, sha256: loaded.sha256, definition: loaded.scenario },
    steps: options.steps ?? STEPS,
    marks: { ...base.marks, tFault: stamp(10_000) },
    attacker: { credentials: [{ kind: 'api-token', name: 'leaked-run', fingerprint: 'sha256:00112233aabbccdd', leakedAt: stamp(9_990) }], attempts: [] },
    ...(options.forensics === null ? {} : { forensics: options.forensics ?? record() }),
  });
}

describe('forensics check', () => {
  it('passes when every requested artifact was preserved before the first destructive step and hashes the same later', () => {
    const { verdict } = assessForensics(journal());
    expect(verdict).toMatchObject({ check: 'forensics', status: 'passed' });
    expect(verdict.message).toBe(
      '2 files (attacker-activity, database-snapshot) preserved at T_fault+110ms before the first step that destroys evidence (revoke-all-tokens at T_fault+300ms); every sha256 unchanged at the end of the verify phase',
    );
  });

  it('negative control: a revocation (or restart) that started before the preservation fails, naming the step', () => {
    const steps = [step('revoke-all-tokens', 10_100, 10_300), step('preserve-forensics', 10_310, 10_500)];
    const { verdict } = assessForensics(journal({ steps, forensics: record({ start: stamp(10_310), end: stamp(10_500) }) }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe('forensic evidence not preserved as required: revoke-all-tokens (which destroys evidence) started at T_fault+100ms, before the evidence was preserved at T_fault+310ms');
  });

  it('a skipped destructive step does not count, a non-destructive one before it does not matter', () => {
    const steps = [step('activate-incident-response', 10_000, 10_001), step('service-restart', 10_050, 10_050, 'skipped'), step('preserve-forensics', 10_110, 10_300)];
    expect(assessForensics(journal({ steps })).verdict).toMatchObject({ status: 'passed', message: expect.stringContaining('and no step that destroys evidence ran') });
  });

  it('fails when a preserved file changed or disappeared after it was preserved', () => {
    const r = record();
    const changed = record({ recheck: { at: stamp(20_000), files: [{ path: r.artifacts[0]!.path, sha256: SHA('c') }, { path: r.artifacts[1]!.path }] } });
    const { verdict } = assessForensics(journal({ forensics: changed }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe(
      `forensic evidence not preserved as required: forensics/attacker-activity.json changed after it was preserved (sha256 ${'c'.repeat(16)}…, preserved ${'a'.repeat(16)}…); forensics/database-public.sql is gone`,
    );
  });

  it('fails on gaps, empty files, a missing re-check, and a window that starts after the leak', () => {
    const r = record();
    const bad = record({
      window: { from: stamp(9_995), to: stamp(10_110) },
      requested: ['attacker-activity', 'database-snapshot', 'postgres-logs', 'service-logs'],
      artifacts: [r.artifacts[0]!, { ...r.artifacts[1]!, bytes: 0 }],
      gaps: [{ kind: 'postgres-logs', reason: 'not readable' }],
    });
    delete (bad as { recheck?: unknown }).recheck;
    const { verdict } = assessForensics(journal({ forensics: bad }));
    expect(verdict.message).toBe(
      'forensic evidence not preserved as required: postgres-logs not collected (not readable); service-logs: nothing collected; forensics/database-public.sql is empty; ' +
        'the window of attacker-activity starts after leaked-run leaked (raise timeRange); the preserved files were never hashed again (the drill ended before the verify phase)',
    );
  });

  it('fails when the step never preserved anything, with the step\'s error', () => {
    const steps = [{ ...step('preserve-forensics', 10_110, 10_300, 'failed'), error: { code: 'X', message: 'disk full' } }];
    expect(assessForensics(journal({ steps, forensics: null })).verdict).toMatchObject({ status: 'failed', message: 'evidence was never preserved (preserve-forensics failed: disk full)' });
  });

  it('is judged only for a scenario that plans preserve-forensics', async () => {
    expect(judge(journal()).verdicts.map((v) => v.check)).toContain('forensics');
    const other = await loadScenarioFile('drills/scenarios/breach-leaked-api-token.yaml');
    const j = { ...journal(), scenario: { file: other.file, sha256: other.sha256, definition: other.scenario } };
    expect(judge(j).verdicts.map((v) => v.check)).not.toContain('forensics');
  });

  it('the steps that destroy evidence: containment and restarts do, reading and preserving do not', () => {
    expect(['revoke-all-tokens', 'service-restart', 'k8s-rollout-restart', 'k8s-drain', 'stop-writes'].every(destroysEvidence)).toBe(true);
    expect(['preserve-forensics', 'activate-incident-response', 'k8s-incident-assessment', 'smoke', 'take-base-backup'].some(destroysEvidence)).toBe(false);
    expect(destroysEvidence('no-such-step')).toBe(false);
    expect(Object.keys(DESTROYS_EVIDENCE).length).toBeGreaterThan(30);
  });
});
