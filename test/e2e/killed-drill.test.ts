import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { KilledRunRecord } from '../../src/cli/finish-run.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, readIfExists, runAndKill, type KillPlan, type RunState } from './kill-helpers.js';

// kill -9 of `drill run` (and of the drill too) at each phase of a real drill on real PostgreSQL;
// afterwards `drill cleanup`, or the next `drill run`, must leave nothing of that run behind.
// Each drill is the short fixture below, cut short by the kill.
const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-killed-'));
// A runs directory of this file's own: the reaper of these tests must not touch other drills on
// the machine, nor theirs these.
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-runs-'));
const env = { DRILL_RUNS_DIR: runs };
const scenario = path.join(ROOT, 'test/fixtures/scenarios/killed-drill.yaml');
const cheapScenario = path.join(ROOT, 'test/fixtures/scenarios/drill-timeout-in-provision.yaml');

afterAll(async () => {
  // Whatever a failed test left, so the machine is clean either way.
  await runCli(['cleanup'], { env });
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});
afterEach(() => expect(listRunLedgers(runs), 'a run ledger was left in the runs directory').toEqual([]));

type Phase = 'provision' | 'baseline' | 'recover' | 'verify';

const dataDirs = (s: RunState) => s.ledger.resources.flatMap((r) => (r.kind === 'pg-data-dir' ? [r.path] : []));

/** When to kill: the drill is in the phase and has made something there. */
const inPhase: Record<Phase, (s: RunState) => boolean> = {
  // The primary's postmaster is up and ready (it runs in a session of its own, so only a reaper
  // stops it); initdb's bootstrap backend writes a lock file too, but never "ready".
  provision: (s) => s.started.length === 1 && dataDirs(s).some((d) => /\bready\b/.test(readIfExists(path.join(d, 'postmaster.pid')))),
  baseline: (s) => s.started.includes('Baseline (steady state)'),
  // The restore has begun making its new instance.
  recover: (s) => s.started.includes('Restore from point-in-time backup') && dataDirs(s).length >= 2,
  verify: (s) => s.started.includes('Verify (stability, integrity, ledger)'),
};

const runAndKillAt = (phase: Phase, groups: KillPlan['groups']) => runAndKill({ scenario, reportsDir, env, groups, when: inPhase[phase], what: phase });

const PHASES: Phase[] = ['provision', 'baseline', 'recover', 'verify'];

describe('kill -9 of `drill run`: the drill notices, stops itself and tears down; the next reaper writes its evidence', () => {
  it.each(PHASES)('killed at %s', { timeout: 300_000 }, async (phase) => {
    const killed = await runAndKillAt(phase, 'cli');
    await ownersGone(killed.ledgerFile);

    // The drill tore down by itself: nothing is left even before any reaper runs.
    expect(leftovers(killed.runDir)).toEqual([]);
    const journal = readJournal(killed.runDir);
    expect(journal.status).toBe('interrupted');
    expect(journal.error?.code).toBe('RUN_COMMAND_GONE');
    expect(journal.phases.find((p) => p.name === 'teardown')?.status).toBe('passed');
    expect(existsSync(path.join(killed.runDir, 'evidence/manifest.json'))).toBe(false);

    // The next `drill run` after one of them, `drill cleanup` after the others.
    const next =
      phase === 'baseline'
        ? await runCli(['run', cheapScenario, '--reports-dir', reportsDir], { env })
        : await runCli(['cleanup'], { env });
    expect(next.code, next.stdout + next.stderr).toBe(phase === 'baseline' ? 3 : 0);
    expect(next.stdout).toContain(`run ${killed.runId}`);
    expect(next.stdout).toMatch(/evidence written: .*evidence\//);
    const verify = await runCli(['verify-evidence', killed.runDir], { env });
    expect(verify.code, verify.stdout).toBe(0);
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });
});

describe('kill -9 of `drill run` and of the drill: `drill cleanup` or the next `drill run` removes what they left', () => {
  it.each(PHASES)('killed at %s', { timeout: 300_000 }, async (phase) => {
    const killed = await runAndKillAt(phase, 'cli-and-drill');
    await ownersGone(killed.ledgerFile);

    // Negative control: killed like this, the run leaves its PostgreSQL and temp dir behind.
    const before = leftovers(killed.runDir);
    expect(before.some((l) => l.startsWith('dir '))).toBe(true);
    expect(before.some((l) => l.startsWith('process ') && l.includes('postgres'))).toBe(true);
    expect(existsSync(path.join(killed.runDir, 'journal.json'))).toBe(false);

    const next =
      phase === 'verify'
        ? await runCli(['run', cheapScenario, '--reports-dir', reportsDir], { env })
        : await runCli(['cleanup'], { env });
    expect(next.code, next.stdout + next.stderr).toBe(phase === 'verify' ? 3 : 0);
    expect(next.stdout).toContain(`run ${killed.runId}`);
    expect(next.stdout).toMatch(/removed postgres \//);
    expect(leftovers(killed.runDir)).toEqual([]);
    const marker = JSON.parse(readFileSync(path.join(killed.runDir, 'killed.json'), 'utf8')) as KilledRunRecord;
    expect(marker).toMatchObject({ runId: killed.runId, status: 'killed', left: [] });
    expect(marker.removed).toEqual(expect.arrayContaining([expect.stringMatching(/^postgres \//), expect.stringMatching(/^dir \//)]));
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });

  // The tests' own guard (cli-deadline.ts): a drill that outlives its test is interrupted before
  // vitest's timeout, says what it was doing, and leaves no run ledger for the next test to trip on.
  it('a drill still running 30 s before its test times out is interrupted (Ctrl-C), its processes listed, nothing left', { timeout: 50_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-deadline-'));
    const longBaseline = path.join(dir, 'long-baseline.yaml');
    writeFileSync(longBaseline, readFileSync(scenario, 'utf8').replace('steadyState: 2s', 'steadyState: 3m'));
    try {
      const result = await runCli(['run', longBaseline, '--reports-dir', reportsDir], { env });
      expect(result.code, result.stdout + result.stderr).toBe(130);
      expect(result.stderr).toMatch(/\[test\] drill has not exited \d+ s into the test \(timeout 50 s\): Ctrl-C/);
      expect(result.stderr).toMatch(/bin\/drill\.mjs run/);
      expect(leftovers(runDirFrom(result.stdout, reportsDir))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`drill cleanup` with nothing to do says so and exits 0', async () => {
    const result = await runCli(['cleanup'], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/nothing to clean up/);
  });
});
