import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { e2eWorkspace, leftovers, nftTables, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// Packet faults (nftables, real kernel drops) on the database link, through the real CLI: real
// Toxiproxy, real PostgreSQL with a streaming replica for the partition failovers.
const { reportsDir, env } = e2eWorkspace('drill-e2e-packets');

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const verdict = (journal: Journal, check: string) => journal.verdicts.find((v) => v.check === check);
const failedChecks = (journal: Journal) => journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
const eventsOf = (journal: Journal, kind: string) => journal.events.filter((e) => e.kind === kind);
const tablesOf = (runDir: string) => readResources(path.join(runDir, 'resources.jsonl')).filter((r) => r.kind === 'nft-table');

async function run(file: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env: { ...env, ...extraEnv } });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

describe('packet faults on the database link (nftables, real kernel drops)', () => {
  it('net-db-packet-loss passes: half of the link\'s loopback packets dropped, probes time out, the fix ends it; the table is gone', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-db-packet-loss.yaml'));
    expect(code, output).toBe(0);
    const [fault] = eventsOf(journal, 'fault');
    const data = fault!.data as { nftTable: string; ports: number[]; ruleset: string; degradation: unknown };
    expect(data.degradation).toEqual({ kind: 'loss', percent: 50 });
    // Only the link's listener, only loopback, in a table named for this run.
    const listen = Number((eventsOf(journal, 'network')[0]!.data as { listen: string }).listen.split(':')[1]);
    expect(data.ports).toEqual([listen]);
    expect(data.nftTable).toMatch(new RegExp(`^inet drill_${journal.runId.replace(/[^A-Za-z0-9_]/g, '_')}_1$`));
    expect(data.ruleset).toContain(`oif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp ip daddr 127.0.0.1 tcp dport ${listen} numgen random mod 100 < 50 counter drop`);
    // The kernel dropped packets (its counters, read before the table was deleted).
    const [dropped] = eventsOf(journal, 'packets-dropped');
    expect((dropped!.data as { droppedPackets: number }).droppedPackets).toBeGreaterThan(0);
    // The application saw it: probes (1 s timeout) failed while the loss lasted, then passed.
    const removed = journal.steps.find((s) => s.name === 'remove-network-fault')!;
    expect(removed.output).toMatchObject({ removed: ['loss-1'] });
    const failed = journal.probes.filter((p) => p.t >= journal.marks.tFault!.t && !p.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((p) => p.t < removed.end!.t)).toBe(true);
    expect(verdict(journal, 'rpo')?.status).toBe('passed');
    // Recorded in the ledger before it was created, and gone now.
    expect(tablesOf(runDir)).toHaveLength(1);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('net-partition-fenced-failover passes: fenced first, then promoted; no write acknowledged after the promotion is lost', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-partition-fenced-failover.yaml'));
    expect(code, output).toBe(0);
    expect(journal.steps.map((s) => s.name)).toEqual(['fence-old-primary', 'promote-replica', 'wait', 'switch-workload']);
    const fence = journal.steps.find((s) => s.name === 'fence-old-primary')!;
    expect(fence.output).toMatchObject({ beforeFailover: expect.stringMatching(/cut off .* by partition-1/), wasRunning: true, restart: 'came up in recovery (read-only)' });
    // The primary was alive behind the partition: the direct canary wrote to it after T_fault.
    const tFault = journal.marks.tFault!.t;
    expect(journal.canary.acks.some((a) => a.tAck > tFault && a.tAck < fence.start.t)).toBe(true);
    // No split-brain warning: the old primary was down when the replica was promoted.
    expect(eventsOf(journal, 'split-brain-risk')).toEqual([]);
    // Moving the application off the partitioned primary left the partition behind.
    expect(journal.steps.find((s) => s.name === 'switch-workload')!.output).toMatchObject({ partitionsLeftBehind: ['partition-1'] });
    expect(verdict(journal, 'rpo')?.status).toBe('passed');
    // Nothing acknowledged after the promotion was lost (the old primary was down by then).
    expect(verdict(journal, 'rpo')?.details).toMatchObject({ lostAfterPromotion: [] });
    expect(leftovers(runDir)).toEqual([]);
  });

  it('net-partition-no-fencing (negative control) fails on RPO, naming the writes the old primary acknowledged after the promotion', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-partition-no-fencing.yaml'));
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['rpo']);
    expect(eventsOf(journal, 'split-brain-risk')).toHaveLength(1);
    const promoted = journal.steps.find((s) => s.name === 'promote-replica')!.end!.t;
    const retargeted = journal.steps.find((s) => s.name === 'switch-workload')!.end!.t;
    const rpo = verdict(journal, 'rpo')!;
    // The ids the old primary acknowledged between the promotion and the switch: lost, and named.
    const splitBrain = journal.canary.acks.filter((a) => a.tAck >= promoted && a.tAck < retargeted - 500);
    expect(splitBrain.length).toBeGreaterThan(5);
    const ids = splitBrain.map((a) => a.id);
    expect(rpo.message).toMatch(/were acknowledged after promote-replica had completed and are missing from the new primary: acknowledged by the old primary, still taking writes \(split-brain/);
    const named = /(\d+) writes \(ids (\d+)-(\d+), epoch 1\) were acknowledged after promote-replica/.exec(rpo.message)!;
    expect(Number(named[2])).toBeLessThanOrEqual(Math.min(...ids));
    expect(Number(named[3])).toBeGreaterThanOrEqual(Math.max(...ids));
    expect(output).toContain('split-brain');
    // Failed although the scenario only reports writes lost after the fault: these are a second primary's.
    expect(rpo.details).toMatchObject({ writesLostAfterFault: 'report' });
    expect((rpo.details as { lostAfterPromotion: unknown[] }).lostAfterPromotion.length).toBeGreaterThan(0);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('net-db-partition-ends-by-itself (fixture) passes: a partition with a duration deletes its own table while the runbook waits', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(path.join(ROOT, 'test/fixtures/scenarios/net-db-partition-ends-by-itself.yaml'));
    expect(code, output).toBe(0);
    const tFault = journal.marks.tFault!.t;
    expect(journal.steps.map((s) => s.name)).toEqual(['wait']);
    const ended = eventsOf(journal, 'fault-ended')[0]!;
    const { sentAt, confirmedAt } = ended.data as { sentAt: number; confirmedAt: number };
    expect(sentAt - tFault).toBeGreaterThanOrEqual(3_000);
    // Every packet of the link was dropped while it lasted: probes (1 s timeout, one at a time)
    // failed through most of it, none after.
    const failed = journal.probes.filter((p) => p.t >= tFault && !p.ok);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...failed.map((p) => p.t))).toBeLessThan(confirmedAt);
    expect(Math.max(...failed.map((p) => p.t)) - tFault).toBeGreaterThanOrEqual(1_500);
    expect((eventsOf(journal, 'packets-dropped')[0]!.data as { droppedPackets: number }).droppedPackets).toBeGreaterThan(0);
    expect(journal.measurements.rtoMs!).toBeGreaterThanOrEqual(3_000);
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('kill -9 of `drill run` and the drill while a partition is in effect: `drill cleanup` deletes the table', { timeout: 300_000 }, async () => {
    let table: string | undefined;
    const killed = await runAndKill({
      scenario: scenario('net-partition-no-fencing.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'the partition in effect',
      when: (s) => {
        const entry = s.ledger.resources.find((r) => r.kind === 'nft-table');
        table = entry && `${entry.family} ${entry.name}`;
        return table !== undefined && nftTables().includes(table);
      },
    });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the kernel still drops the link's packets.
    expect(nftTables()).toContain(table);
    expect(leftovers(killed.runDir)).toContain(`nft table ${table}`);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`removed nftables table ${table}`);
    expect(nftTables()).not.toContain(table);
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });

  it('without nft: exit 3 naming the package, and no table recorded', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-db-packet-loss.yaml'), { DRILL_NFT: '/nonexistent/nft' });
    expect(code, output).toBe(3);
    expect(output).toMatch(/network-loss drops packets with nftables, and nft is not installed .*apt-get install nftables/);
    expect(journal.error).toMatchObject({ code: 'NFTABLES_MISSING' });
    expect(tablesOf(runDir)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('bad input: exit 2 naming the file, line and key, nothing started', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-packets-bad-'));
    try {
      const file = path.join(dir, 'bad-loss.yaml');
      writeFileSync(
        file,
        'name: bad-loss\ntitle: t\nrunbook: r\nseverity: P1\ntargets: {postgres: {}, network: {}}\nworkload:\n  probes:\n    - {type: sql, name: db, query: select 1}\nfaults:\n  - type: network-loss\n    percent: 150\nrecovery:\n  - {step: remove-network-fault}\n',
      );
      const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stdout + result.stderr).toMatch(/bad-loss\.yaml:11:\d+.*faults\[0\]\.percent/s);
      expect(result.stdout + result.stderr).not.toMatch(/Provision/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
