import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// Region drills through the CLI: real moto (Route 53 API), the drill's real DNS server (UDP),
// real service processes in two loopback ranges, real PostgreSQL.
const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-regions-'));
// This file's own runs directory: its reaper touches no other drill on the machine.
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-regions-runs-'));
const env = { DRILL_RUNS_DIR: runs };
afterAll(async () => {
  await runCli(['cleanup'], { env });
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});
afterEach(() => expect(listRunLedgers(runs), 'a run ledger was left in the runs directory').toEqual([]));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const verdict = (journal: Journal, check: string) => journal.verdicts.find((v) => v.check === check);

async function run(file: string): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

interface FailoverOutput {
  region: string;
  record: { name: string; from: string[]; to: string[]; ttl: number };
  changeId: string;
}

/** The service probes' failed samples after `t`, by the address the client resolved the name to. */
function failedAddressesAfter(journal: Journal, t: number): string[] {
  return [...new Set(journal.probes.filter((p) => !p.ok && p.t > t).map((p) => /@(127\.\d+\.\d+\.\d+)/.exec(p.error ?? '')?.[1] ?? `unnamed: ${p.error}`))].sort();
}

describe('region loss and DNS failover (moto Route 53, the drill\'s DNS server, two regions of real processes)', () => {
  it('region-outage-dns-failover passes: clients follow the UPSERT once their cached answer expires, and that is in the RTO', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-outage-dns-failover.yaml'));
    expect(code, output).toBe(0);
    const regions = journal.events.find((e) => e.kind === 'regions')!.data as { serviceName: string; ttl: number; regions: Array<{ name: string; range: string; instances: Array<{ url: string }> }> };
    expect(regions.serviceName).toBe('api.truststream.drill.test.');
    // Every listener of a region is in its own range.
    for (const r of regions.regions) for (const i of r.instances) expect(i.url.startsWith(`http://${r.range.replace(/0\/24$/, '')}`), i.url).toBe(true);

    const step = journal.steps.find((s) => s.name === 'dns-failover')!;
    const out = step.output as unknown as FailoverOutput;
    expect(out).toMatchObject({ region: 'us-east-1', record: { from: ['127.0.1.1', '127.0.1.2'], to: ['127.0.2.1', '127.0.2.2'], ttl: 5 } });
    expect(out.changeId).toMatch(/\w+/);
    // Before the UPSERT the clients had only the primary's addresses; after it, stale answers
    // (the primary's) fail until the cache expires, and never the DR region's.
    expect(failedAddressesAfter(journal, journal.marks.tFault!.t)).toEqual(expect.arrayContaining(['127.0.1.1']));
    expect(failedAddressesAfter(journal, journal.marks.tFault!.t).every((a) => a.startsWith('127.0.1.'))).toBe(true);
    // The restored instant is no earlier than the UPSERT, nor later than its TTL after it (plus a probe round).
    const restoredAt = journal.marks.tFault!.t + journal.measurements.rtoMs!;
    expect(restoredAt).toBeGreaterThanOrEqual(step.end!.t);
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    expect(journal.components.moto).toBe('5.2.1');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-failover-ttl-too-long fails on RTO: the change is INSYNC and answered, but clients keep the dead region for 300 s', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-failover-ttl-too-long.yaml'));
    expect(code, output).toBe(1);
    expect(verdict(journal, 'rto')?.status).toBe('failed');
    expect(verdict(journal, 'recovery-steps')?.status).toBe('passed');
    const step = journal.steps.find((s) => s.name === 'dns-failover')!;
    expect(step.output).toMatchObject({ record: { to: ['127.0.2.1', '127.0.2.2'], ttl: 300 } });
    // The stale answers are named: after the failover every failed sample went to the primary region.
    expect(failedAddressesAfter(journal, step.end!.t)).toEqual(['127.0.1.1', '127.0.1.2']);
    expect(verdict(journal, 'rto')?.message).toMatch(/api\.truststream\.drill\.test@127\.0\.1\.\d: ECONNREFUSED/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-failover-wrong-region fails on RTO although its step succeeded', async () => {
    const { code, output, journal } = await run(scenario('region-failover-wrong-region.yaml'));
    expect(code, output).toBe(1);
    expect(verdict(journal, 'recovery-steps')?.status).toBe('passed');
    expect(verdict(journal, 'rto')?.status).toBe('failed');
    expect(journal.steps.find((s) => s.name === 'dns-failover')!.output).toMatchObject({ region: 'us-west-2', record: { to: ['127.0.1.1', '127.0.1.2'] } });
  });

  it('kill -9 of the drill after the outage: drill cleanup removes moto, both regions\' processes and their directories', async () => {
    const killed = await runAndKill({
      scenario: scenario('region-outage-dns-failover.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'recover',
      when: (s) => s.started.includes('Recover (runbook steps)'),
    });
    await ownersGone(killed.ledgerFile);
    const recorded = readFileSync(path.join(killed.runDir, 'resources.jsonl'), 'utf8');
    expect(recorded).toMatch(/"name":"moto-server"/);
    expect(recorded).toMatch(/drill-moto-/);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });
});
