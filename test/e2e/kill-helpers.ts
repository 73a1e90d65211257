import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { sleep } from '../../src/engine/clock.js';
import { listRunLedgers, RunLedger, type RunLedgerContents } from '../../src/engine/run-ledger.js';
import { stillRunning } from '../../src/targets/process/process-identity.js';
import { runCli, type CliResult } from './helpers.js';

/** What a running drill has done so far: its machine-wide ledger and the activities it started. */
export interface RunState {
  ledger: RunLedgerContents;
  started: string[];
}

export function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function runState(runDir: string, ledgerFile: string): RunState {
  const started = readIfExists(path.join(runDir, 'progress.jsonl'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; title: string })
    .filter((e) => e.kind === 'start')
    .map((e) => e.title);
  return { ledger: RunLedger.open(ledgerFile).read(), started };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface KilledRun {
  runId: string;
  runDir: string;
  ledgerFile: string;
  cli: CliResult;
}

export interface KillPlan {
  scenario: string;
  reportsDir: string;
  /** Has DRILL_RUNS_DIR: the tests' own machine-wide ledger directory. */
  env: Record<string, string> & { DRILL_RUNS_DIR: string };
  /** `cli`: kill -9 of the `drill run` process group; `cli-and-drill`: of the drill's group too. */
  groups: 'cli' | 'cli-and-drill';
  /** When to kill (polled every 50 ms). */
  when: (s: RunState) => boolean;
  what: string;
  /** More `drill run` arguments (e.g. --game-day). */
  args?: string[];
  /** How long the drill may take to get there (default 180 s; a drill on real nodes provisions for minutes). */
  reachTimeoutMs?: number;
}

/**
 * Starts `drill run` in a process group of its own, as from a terminal, and SIGKILLs that group
 * (and the drill's, found as the `vitest` owner in the run ledger) once `when` holds.
 */
export async function runAndKill(plan: KillPlan): Promise<KilledRun> {
  let child: ChildProcess | undefined;
  let runId: string | undefined;
  const cli = runCli(['run', plan.scenario, '--reports-dir', plan.reportsDir, ...(plan.args ?? [])], {
    env: plan.env,
    detached: true,
    onOutput: (all, c) => {
      child = c;
      runId ??= /: run (\S+)/.exec(all)?.[1];
    },
  });
  const id = await waitFor('the run id', () => runId);
  const runDir = path.join(plan.reportsDir, id);
  const ledgerFile = await waitFor('the run ledger', () => listRunLedgers(plan.env.DRILL_RUNS_DIR).find((f) => path.basename(f) === `${id}.jsonl`));
  const state = await waitFor(
    `the drill to reach ${plan.what}`,
    () => {
      const s = runState(runDir, ledgerFile);
      return plan.when(s) && s;
    },
    plan.reachTimeoutMs,
  );
  const drillGroup = state.ledger.owners.find((o) => o.role === 'vitest')!.pid;
  // The drill first: killed second, it could notice the CLI's death and start its teardown.
  if (plan.groups === 'cli-and-drill') process.kill(-drillGroup, 'SIGKILL');
  process.kill(-child!.pid!, 'SIGKILL');
  const result = await cli;
  expect(result.signal).toBe('SIGKILL');
  return { runId: id, runDir, ledgerFile, cli: result };
}

/** Until no owner of the run (its drill, vitest) runs any more. */
export async function ownersGone(ledgerFile: string): Promise<void> {
  await waitFor('the drill to end', () => RunLedger.open(ledgerFile).read().owners.every((o) => !stillRunning(o)));
}
