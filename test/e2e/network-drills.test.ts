import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { e2eWorkspace, leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// The network faults through a real Toxiproxy (built by npm run setup) between the real service
// (plain processes) and real PostgreSQL, run through the real CLI.
const { reportsDir, env } = e2eWorkspace('drill-e2e-network');

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const verdict = (journal: Journal, check: string) => journal.verdicts.find((v) => v.check === check);
const failedChecks = (journal: Journal) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
const faultEvents = (journal: Journal) => journal.events.filter((e) => e.kind === 'fault');

async function run(file: string): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

/** The Toxiproxy server a run recorded (process and temp dir), from its resources.jsonl. */
function toxiproxyOf(runDir: string) {
  const resources = readResources(path.join(runDir, 'resources.jsonl'));
  const process = resources.find((r) => r.kind === 'process' && r.name === 'toxiproxy-server');
  const dir = resources.find((r) => r.kind === 'temp-dir' && path.basename(r.path).startsWith('drill-toxiproxy-'));
  return { process, dir };
}

describe('network faults on the database link (Toxiproxy, real service, real PostgreSQL)', () => {
  it('net-db-timeout-pool-recycle passes: the link hangs, the service fails its probes; fixed and restarted, RTO measured', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-db-timeout-pool-recycle.yaml'));
    expect(code, output).toBe(0);
    expect(journal.components.toxiproxy).toBe('2.12.0');

    // The service connected through the proxy, not to PostgreSQL directly.
    const network = journal.events.find((e) => e.kind === 'network')!;
    const listen = (network.data as { listen: string }).listen;
    expect(listen).toMatch(/^127\.0\.0\.1:\d+$/);
    const service = journal.events.find((e) => e.kind === 'service')!;
    expect(service.message).toContain(`against ${listen}/drill`);

    // T_fault is when the proxy was asked to drop the traffic; it confirmed the toxic right after.
    const [fault] = faultEvents(journal);
    expect(fault!.data).toMatchObject({ type: 'timeout', stream: 'upstream', degradation: { kind: 'timeout' } });
    expect((fault!.data as { confirmedAt: number }).confirmedAt).toBeGreaterThanOrEqual(journal.marks.tFault!.t);

    // Detected where users are: a probe of the service timed out (the service's queries hang).
    expect(verdict(journal, 'detection')?.message).toMatch(/timed out after 3000ms|HTTP 503/);
    // The step removed exactly that toxic; the restart brought the service back: RTO after both.
    const removed = journal.steps.find((s) => s.name === 'remove-network-fault')!;
    expect(removed.output).toMatchObject({ removed: ['timeout-1'] });
    const restart = journal.steps.find((s) => s.name === 'service-restart')!;
    expect(journal.marks.tFault!.t + journal.measurements.rtoMs!).toBeGreaterThanOrEqual(restart.end!.t);
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    expect(verdict(journal, 'rpo')?.status).toBe('passed');
    // The canary wrote through the service after it came back.
    expect(journal.canary.acks.some((a) => a.tAck > restart.end!.t)).toBe(true);

    // Stopped at teardown: the server and its directory are gone.
    const { process, dir } = toxiproxyOf(runDir);
    expect(process).toBeDefined();
    expect(dir).toBeDefined();
    expect(leftovers(runDir)).toEqual([]);
  });

  it('net-db-latency-degraded (negative control) fails on performance only: 500 ms a round trip, measured by the canary and the load test', { timeout: 300_000 }, async () => {
    const { code, output, journal } = await run(scenario('net-db-latency-degraded.yaml'));
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['performance']);
    for (const check of ['detection', 'rto', 'rpo', 'integrity', 'recovery-steps']) expect(verdict(journal, check)?.status, check).toBe('passed');

    const [timeout, latency] = faultEvents(journal);
    expect(timeout!.data).toMatchObject({ type: 'timeout' });
    expect(latency!.data).toMatchObject({ type: 'latency', stream: 'downstream', attributes: { latency: 500, jitter: 0 } });
    // The fix removed the blackhole only; the slow path stayed.
    expect(journal.steps.find((s) => s.name === 'remove-network-fault')!.output).toMatchObject({ removed: ['timeout-1'], kept: ['latency-2'] });

    // What the canary observed: each SQL write is one round trip through the proxy, and the writer
    // waits for one before the next, so after recovery its acknowledgements are at least 500 ms
    // apart (the injected latency is a floor: a loaded machine only adds to it).
    const restartEnd = journal.steps.find((s) => s.name === 'service-restart')!.end!.t;
    const after = journal.canary.acks.filter((a) => a.tAck > restartEnd).map((a) => a.tAck);
    expect(after.length).toBeGreaterThan(3);
    const gaps = after.slice(1).map((t, i) => t - after[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500);

    // The load test after recovery: every request reads the database once, so none is faster than the latency.
    const [baseline, verify] = journal.load!;
    expect(verify!.phase).toBe('verify');
    expect(verify!.latencyMs.p50).toBeGreaterThanOrEqual(500);
    expect(verify!.latencyMs.p99).toBeGreaterThanOrEqual(500);
    expect(verdict(journal, 'performance')?.message).toMatch(/p99 \d+ ms after recovery is [\d.]+× the baseline's/);
    expect(baseline!.phase).toBe('baseline');
  });

  it('net-db-reset-self-heal (fixture) passes: connections reset for the 3 s wait; once the toxic is gone the service recovers with no restart', { timeout: 300_000 }, async () => {
    const { code, output, journal } = await run(path.join(ROOT, 'test/fixtures/scenarios/net-db-reset-self-heal.yaml'));
    expect(code, output).toBe(0);
    expect(faultEvents(journal)[0]!.data).toMatchObject({ type: 'reset_peer', stream: 'upstream' });
    const tFault = journal.marks.tFault!.t;
    const wait = journal.steps.find((s) => s.name === 'wait')!;
    const removed = journal.steps.find((s) => s.name === 'remove-network-fault')!;
    expect(journal.steps.map((s) => s.name)).toEqual(['wait', 'remove-network-fault']);
    // While the toxic was there the service answered 503 (its database connections were reset),
    // all through the wait: the outage lasted until the network was fixed.
    const failed = journal.probes.filter((p) => p.t >= tFault && !p.ok);
    expect(failed.length).toBeGreaterThan(3);
    for (const sample of failed) expect(sample.error).toMatch(/HTTP 503 database_unavailable/);
    expect(Math.max(...failed.map((p) => p.t))).toBeGreaterThanOrEqual(wait.start.t + 2_000);
    // Recovered by itself, no restart: RTO is bracketed after the wait, and the canary writes again.
    expect(journal.measurements.rtoLowerBoundMs!).toBeGreaterThanOrEqual(2_000);
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    expect(journal.canary.acks.some((a) => a.tAck > removed.end!.t)).toBe(true);
  });

  it('net-db-reset-ends-by-itself (fixture) passes: a fault with a duration ends on its own while the runbook waits', { timeout: 300_000 }, async () => {
    const { code, output, journal } = await run(path.join(ROOT, 'test/fixtures/scenarios/net-db-reset-ends-by-itself.yaml'));
    expect(code, output).toBe(0);
    const tFault = journal.marks.tFault!.t;
    expect(journal.steps.map((s) => s.name)).toEqual(['wait']);
    // The toxic was removed by the fault itself, 3 s after it took effect, while the runbook waited.
    const ended = journal.events.find((e) => e.kind === 'fault-ended')!;
    const { sentAt, confirmedAt } = ended.data as { sentAt: number; confirmedAt: number };
    expect(sentAt - tFault).toBeGreaterThanOrEqual(3_000);
    // Failures only while it lasted (a sample started before the removal may fail after it was sent).
    const failed = journal.probes.filter((p) => p.t >= tFault && !p.ok);
    expect(failed.length).toBeGreaterThan(3);
    const lastFailure = Math.max(...failed.map((p) => p.t));
    expect(lastFailure).toBeLessThan(confirmedAt);
    // ... and through most of it: the service did not recover before the link did.
    expect(lastFailure - tFault).toBeGreaterThanOrEqual(2_000);
    expect(journal.measurements.rtoMs!).toBeGreaterThanOrEqual(2_000);
    expect(verdict(journal, 'rto')?.status).toBe('passed');
  });

  it('kill -9 of `drill run` and the drill while the proxy runs: `drill cleanup` stops it and removes its directory', { timeout: 300_000 }, async () => {
    const killed = await runAndKill({
      scenario: scenario('net-db-timeout-pool-recycle.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'the baseline, with Toxiproxy running',
      when: (s) => s.started.includes('Baseline (steady state)') && s.ledger.resources.some((r) => r.kind === 'process' && r.name === 'toxiproxy-server'),
    });
    await ownersGone(killed.ledgerFile);

    // Negative control: killed like this, the proxy's directory is still there. The server itself
    // runs in the drill's process group and died with it (a server that outlives its drill is
    // reaped by its ledger entry: test/targets/toxiproxy-link.test.ts).
    const before = leftovers(killed.runDir);
    expect(before.some((l) => l.startsWith('dir ') && l.includes('drill-toxiproxy-'))).toBe(true);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(leftovers(killed.runDir)).toEqual([]);
  });
});
