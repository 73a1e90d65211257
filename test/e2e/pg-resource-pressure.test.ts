import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KilledRunRecord } from '../../src/cli/finish-run.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { controllerMount } from '../../src/targets/process/cgroup-v1.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill, type RunState } from './kill-helpers.js';
import { expectConservativeRto } from './rto-evidence.js';

// Resource pressure on real PostgreSQL through the real CLI: the drill moves the server into a
// cgroup (v1) of its own with a lower CPU quota or memory limit; the kernel throttles it or
// OOM-kills it for real. Needs root and writable cgroup v1 cpu and memory hierarchies.
const usable = process.getuid?.() === 0 && (['cpu', 'memory'] as const).every((c) => controllerMount(c) && !controllerMount(c)!.readOnly);
const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-resource-'));
// A runs directory of this file's own, so its reaper touches no other drill on the machine.
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-resource-runs-'));
const env = { DRILL_RUNS_DIR: runs };
afterAll(async () => {
  await runCli(['cleanup'], { env });
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const step = (journal: Journal, name: string) => journal.steps.find((s) => s.name === name);
const faultEvent = (journal: Journal, type = 'memory') => journal.events.find((e) => e.kind === 'fault' && e.message.startsWith(type))!;
const cgroups = (lines: string[]) => lines.filter((l) => l.startsWith('cgroup '));

describe('resource-pressure scenarios: bad input (no cgroup touched)', () => {
  it('a bad memory size and a limit lifted without a fault: exit 2 naming file, line and key, nothing started', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-resource-bad-'));
    try {
      const shipped = readFileSync(scenario('pg-oom-kill-crash-recovery.yaml'), 'utf8');
      const file = path.join(dir, 'bad.yaml');
      writeFileSync(file, shipped.replace('limit: 16Mi', 'limit: 16MB'));
      const lifted = path.join(dir, 'lifted.yaml');
      writeFileSync(lifted, shipped.replace(/^name: .*$/m, 'name: lifted').replace(/ {2}- type: memory-stress\n(?: {4}.*\n)+/, '  - type: pg-primary-crash\n'));
      const reports = path.join(dir, 'reports');
      const result = await runCli(['run', file, lifted, '--reports-dir', reports], { env });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      const line = shipped.split('\n').findIndex((l) => l.includes('limit: 16Mi')) + 1;
      expect(result.stderr).toMatch(new RegExp(`${file}:${line}:\\d+ faults\\[0\\]\\.limit: "16MB" is not valid: a size like 64Mi`));
      expect(result.stderr).toMatch(new RegExp(`${lifted}:\\d+:\\d+ recovery\\[0\\]\\.step: remove-resource-limit lifts the limit a cpu-stress or memory-stress fault set`));
      expect(existsSync(reports)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!usable)(`resource pressure (real PostgreSQL, real cgroups, real CLI)${usable ? '' : ' (skipped: needs root and writable cgroup v1 cpu and memory hierarchies)'}`, () => {
  it('pg-oom-kill-crash-recovery passes: the kernel OOM-kills a backend, limit lifted, restarted, RPO 0, integrity held', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('pg-oom-kill-crash-recovery.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.every((v) => v.status === 'passed')).toBe(true);

    // The kill as the kernel and PostgreSQL reported it.
    const fault = faultEvent(journal);
    const details = fault.data as Record<string, unknown> & { memory: Record<string, number>; serverLog: string[]; processes: Array<{ name: string }> };
    expect(details.processes.filter((p) => p.name.endsWith('postmaster'))).toHaveLength(1);
    expect(details.memory.limitBytes).toBe(16 * 1024 * 1024);
    expect(details.memory.oomKill).toBeGreaterThanOrEqual(1);
    expect(details.memory.maxUsageBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024 - 64 * 1024);
    expect(details.killedPid).toEqual(expect.any(Number));
    expect(details.kernelLog).toMatch(new RegExp(`Memory cgroup out of memory: Killed process ${details.killedPid as number} \\(postgres\\)`));
    expect(details.serverLog.join('\n')).toMatch(/terminated by signal 9: Killed/);
    expect(details.outcome).toMatch(/^(crash-recovery|postmaster-killed)$/);
    // T_fault: the last poll that saw no kill, inside the inject phase, before the kill was observed.
    const tFault = journal.marks.tFault!.t;
    const inject = journal.phases.find((p) => p.name === 'inject')!;
    expect(tFault).toBeGreaterThan(inject.start.t);
    expect(tFault).toBeLessThanOrEqual(details.killObservedAt as number);
    expect((details.killObservedAt as number) - tFault).toBeLessThan(1000);

    const lift = step(journal, 'remove-resource-limit')!.output as { lifted: Array<{ controller: string; removed: boolean; counters: Record<string, number> }> };
    expect(lift.lifted).toEqual([expect.objectContaining({ controller: 'memory', removed: true, counters: expect.objectContaining({ oomKill: expect.any(Number) }) })]);
    expect(step(journal, 'pg-restart')?.output).toMatchObject({ instance: 'primary', acceptsWrites: true });

    const m = journal.measurements;
    expect(m.rpoMs).toBe(0);
    expect(m.lostWrites).toBe(0);
    expect(m.rtoMs).toBeGreaterThanOrEqual(step(journal, 'pg-restart')!.end!.t - tFault);
    expect(journal.canary.acks.some((a) => a.tAck > journal.marks.tRecoveryEnd!.t)).toBe(true);
    expectConservativeRto(journal, 'pg-restart');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-oom-restart-without-limit-removed fails (exit 1): the restart under the same limit is OOM-killed again, the failure names the OOM', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('pg-oom-restart-without-limit-removed.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rto: recovery never stabilised/);
    expect(result.stdout).toMatch(/FAIL recovery-steps: .*pg-restart failed \(PG_RESTART_\w+: .*the drill's memory limit of 16 MiB is still in place .*the kernel OOM-killed \d+ processes in it \(memory\.oom_control oom_kill\)/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(faultEvent(journal).message).toMatch(/OOM-killed/);
    expect(step(journal, 'pg-restart')!.status).toBe('failed');
    expect(journal.measurements.rtoMs).toBeUndefined();
    expect(readFileSync(path.join(runDir, 'incident-report.md'), 'utf8')).toMatch(/OOM-kill/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-cpu-starved-degraded fails on performance only (exit 1): RTO and RPO hold under a 0.05 CPU quota, p99 does not', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('pg-cpu-starved-degraded.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    // Performance is what this control is about. On a loaded machine a server held to 5 % of a CPU
    // may also miss its probes' stability window (RTO); nothing else may fail: no write lost.
    const failed = journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
    expect(failed).toContain('performance');
    expect(failed.filter((c) => c !== 'performance' && c !== 'rto')).toEqual([]);
    expect(result.stdout).toMatch(/PASS rpo: RPO 0ms/);
    expect(result.stdout).toMatch(/FAIL performance: performance failed: (.*; )?p99 \d+ ms after recovery is [\d.]+× the baseline's/);
    expect(faultEvent(journal, 'cpu').data).toMatchObject({ cpus: 0.05, cfsQuotaUs: 5000, cfsPeriodUs: 100000 });
    // The restarted server ran inside the quota: it was still attached when pg-restart started it.
    expect(step(journal, 'pg-restart')?.output).toMatchObject({ acceptsWrites: true });
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-cpu-starved-limit-lifted passes, performance included: the same starved host with the quota lifted before the restart', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('pg-cpu-starved-limit-lifted.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.find((v) => v.check === 'performance')?.status).toBe('passed');
    const lift = step(journal, 'remove-resource-limit')!.output as { lifted: Array<{ controller: string; removed: boolean; counters: Record<string, number> }> };
    // The quota was in force until lifted: the kernel accounted the server's CPU against it (CFS
    // bandwidth periods). Whether it also throttled depends on how busy the server was in the few
    // seconds between the quota and the crash, which at 0.05 CPU is not certain: nrThrottled is
    // reported, not required.
    expect(lift.lifted, JSON.stringify(lift.lifted)).toEqual([expect.objectContaining({ controller: 'cpu', removed: true, counters: expect.objectContaining({ cfsQuotaUs: 5000 }) })]);
    expect(lift.lifted[0]!.counters.nrPeriods, JSON.stringify(lift.lifted)).toBeGreaterThan(0);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('a memory limit (mode: limit) holds across a crash and a restart: the restarted server starts inside the cgroup', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', path.join(ROOT, 'test/fixtures/scenarios/pg-memory-limit-restart.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const details = faultEvent(journal).data as { mode: string; limitBytes: number; memory: Record<string, number>; processes: Array<{ name: string; pid: number }> };
    expect(details).toMatchObject({ mode: 'limit', limitBytes: 256 * 1024 * 1024, memory: { limitBytes: 256 * 1024 * 1024 } });
    const crash = journal.events.find((e) => e.kind === 'fault' && e.message.startsWith('primary crash'))!.data as { postmasterPid: number };
    // The crashed postmaster was the one moved in; T_fault is the limit's.
    expect(details.processes.find((p) => p.name.endsWith('postmaster'))?.pid).toBe(crash.postmasterPid);
    // The restarted server (new pids) was inside: lifting the limit moved its processes back.
    const lift = step(journal, 'remove-resource-limit')!.output as { lifted: Array<{ processesMovedBack: number; counters: Record<string, number> }>; serverRunning: boolean };
    expect(lift.lifted).toHaveLength(1);
    expect(lift.lifted[0]!.processesMovedBack).toBeGreaterThanOrEqual(4);
    expect(lift.lifted[0]!.counters.oomKill ?? 0).toBe(0);
    expect(lift.serverRunning).toBe(true);
    expect(leftovers(runDir)).toEqual([]);
  });

  // kill -9 of `drill run` and of the drill while a limit is on the server: the cgroup stays until a reaper lifts it.
  const killAt: Array<[string, string, (s: RunState) => boolean]> = [
    ['detect, the server OOM-killed under its memory limit', 'pg-oom-restart-without-limit-removed.yaml', (s) => s.started.includes('Detect')],
    ['detect, the server under its CPU quota', 'pg-cpu-starved-degraded.yaml', (s) => s.started.includes('Detect')],
  ];
  it.each(killAt)('killed at %s: `drill cleanup` removes the cgroup', { timeout: 300_000 }, async (what, file, when) => {
    const killed = await runAndKill({ scenario: scenario(file), reportsDir, env, groups: 'cli-and-drill', when, what });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the run leaves its cgroup.
    expect(cgroups(leftovers(killed.runDir))).toHaveLength(1);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/removed (cpu|memory) cgroup (\/\S+)?\/drill\/\S+\/postgres-primary/);
    expect(leftovers(killed.runDir)).toEqual([]);
    const marker = JSON.parse(readFileSync(path.join(killed.runDir, 'killed.json'), 'utf8')) as KilledRunRecord;
    expect(marker).toMatchObject({ runId: killed.runId, status: 'killed', left: [] });
    expect(existsSync(killed.ledgerFile)).toBe(false);
    expect(listRunLedgers(runs)).toEqual([]);
  });
});
