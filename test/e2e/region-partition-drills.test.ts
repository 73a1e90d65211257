import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { e2eWorkspace, failedChecks, leftovers, readJournal, ROOT, runCli, runDirFrom, verdictOf } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// Region partitions through the CLI: real PostgreSQL in two loopback ranges, the DR replica
// streaming through a real Toxiproxy on the DR range (the inter-region link), real service
// processes in both regions, real moto and the drill's DNS server.
const { reportsDir, env } = e2eWorkspace('drill-e2e-rpart');

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);

async function run(file: string): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

const lagEvents = (journal: Journal) => journal.events.filter((e) => e.kind === 'replication-lag').map((e) => ({ t: e.t, ...(e.data as { replayBytesBehind: number; receiveLsn: string; replayAgeMs: number | null }) }));

/** The inter-region link, from the journal's `network` event, and the replica built through it. */
function interRegionLink(journal: Journal): { listen: string; upstream: string } {
  const link = journal.events.find((e) => e.kind === 'network' && (e.data as { link?: string }).link === 'replication')!;
  const replica = journal.events.find((e) => e.kind === 'replica')!;
  expect(replica.t).toBeGreaterThan(link.t);
  const data = link.data as { listen: string; upstream: string };
  expect(replica.data).toMatchObject({ through: data.listen });
  return data;
}

describe('region-partition (the inter-region link cut, both regions up)', () => {
  it('region-partition-heal passes: the link goes dead both ways, lag grows, clients see nothing, the heal catches the DR replica up', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('region-partition-heal.yaml'));
    expect(code, output).toBe(0);

    // The DR replica streams from the primary region's database through the link's DR end (.50 of us-east-1's range).
    const link = interRegionLink(journal);
    expect(link.listen).toMatch(/^127\.0\.2\.50:\d+$/);
    expect(link.upstream).toMatch(/^127\.0\.1\.40:\d+$/);

    // T_fault: timeout toxics on both directions, read back from the proxy.
    const fault = journal.events.find((e) => e.kind === 'fault')!;
    const details = fault.data as { toxics: Array<{ type: string; stream: string }>; confirmedAt: number };
    expect(details.toxics.map((t) => `${t.type} ${t.stream}`)).toEqual(['timeout downstream', 'timeout upstream']);
    const tFault = journal.marks.tFault!.t;
    expect(details.confirmedAt).toBeGreaterThanOrEqual(tFault);
    // Both regions stayed up: detection does not apply, no probe failed, the canary kept being acknowledged.
    expect(journal.events.some((e) => e.kind === 'detection-not-applicable')).toBe(true);
    expect(journal.probes.filter((p) => p.t >= tFault && !p.ok)).toEqual([]);
    const heal = journal.steps.find((s) => s.name === 'heal-region-partition')!;
    expect(journal.canary.acks.filter((a) => a.tAck > tFault && a.tAck < heal.start.t).length).toBeGreaterThan(20);

    // The lag grew during the partition (read once a second): nothing received while it lasted.
    const during = lagEvents(journal).filter((l) => l.t > tFault + 500 && l.t < heal.start.t);
    expect(during.length).toBeGreaterThanOrEqual(3);
    expect(during.at(-1)!.replayBytesBehind).toBeGreaterThan(during[0]!.replayBytesBehind);
    expect(new Set(during.map((l) => l.receiveLsn)).size).toBe(1);
    expect(journal.measurements.replicationLagMaxMs).toBeGreaterThan(2_000);
    expect(journal.measurements.replicationLagMaxBytes).toBeGreaterThanOrEqual(during.at(-1)!.replayBytesBehind);

    // The heal: both toxics removed, the backlog read before it, then lag 0 against the primary's position after it.
    const output_ = heal.output as { removed: string[]; lagBeforeHeal: Array<{ bytesBehind: number }>; catchUp: Array<{ replica: string; replayedTo: string; primaryLsnAtHeal: string }> };
    expect(output_.removed).toHaveLength(2);
    expect(output_.lagBeforeHeal[0]!.bytesBehind).toBeGreaterThan(5_000);
    expect(output_.catchUp).toHaveLength(1);
    expect(output_.catchUp[0]).toMatchObject({ replica: 'replica-1' });
    expect(journal.events.some((e) => e.kind === 'replica-caught-up')).toBe(true);
    expect(typeof journal.measurements.replicationCatchUpMs).toBe('number');

    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.measurements.lostWrites).toBe(0);
    expect(verdictOf(journal, 'integrity')?.status).toBe('passed');
    // One Toxiproxy server (the inter-region link's; no application link with regions), stopped at teardown.
    const resources = readResources(path.join(runDir, 'resources.jsonl'));
    expect(resources.filter((r) => r.kind === 'process' && r.name === 'toxiproxy-server')).toHaveLength(1);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-partition-split-brain (negative control) fails on RPO, naming the writes the old primary acknowledged after the DR promotion', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('region-partition-split-brain.yaml'));
    expect(code, output).toBe(1);
    // RPO names the split brain; the ledger's holes (the stale-cache writes of epoch 2 the old
    // primary took, below ids the DR region took after them) fail integrity with it.
    expect(failedChecks(journal)).toContain('rpo');
    expect(failedChecks(journal).filter((c) => c !== 'rpo' && c !== 'integrity')).toEqual([]);
    expect(journal.events.filter((e) => e.kind === 'split-brain-risk')).toHaveLength(1);
    const promoted = journal.events.find((e) => e.kind === 'promoted')!;
    const rpo = verdictOf(journal, 'rpo')!;
    expect(rpo.message).toMatch(/^\d+ writes \(ids \d+-\d+, epoch 1(; ids \d+-\d+, epoch 2)?\) were acknowledged after promote-replica had completed and are missing from the new primary: acknowledged by the old primary, still taking writes \(split-brain/);
    expect(rpo.details).toMatchObject({ writesLostAfterFault: 'report', promotedBy: 'promote-replica' });
    // Counted from the raw ledger: acknowledged after the promotion and not in the DR database.
    const rows = new Set(journal.canary.recovered!.rows.map((r) => `${r.epoch}:${r.id}`));
    const splitBrain = journal.canary.acks.filter((a) => a.tAck >= (rpo.details as { promotedAt: number }).promotedAt && !rows.has(`${a.epoch}:${a.id}`));
    expect(splitBrain.length).toBeGreaterThan(10);
    expect((rpo.details as { promotedAt: number }).promotedAt).toBeLessThanOrEqual(promoted.t + 1);
    const named = Number(/^(\d+) writes/.exec(rpo.message)![1]);
    expect(named).toBe(splitBrain.length);
    expect(output).toContain('split-brain');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('bad input through drill run: region-partition without targets.regions is exit 2, placed (file, line, key), nothing started', { timeout: 60_000 }, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-rpart-bad-'));
    try {
      const file = path.join(tmp, 'no-regions.yaml');
      const text = readFileSync(scenario('region-partition-heal.yaml'), 'utf8');
      // targets.regions removed: the service's probes and canary then need targets.service, given instead.
      writeFileSync(file, text.replace(/ {2}regions:\n( {4}.*\n)+/, '  service: { version: 4.4.0 }\n'));
      const result = await runCli(['run', file, '--reports-dir', path.join(tmp, 'reports')], { env });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(/no-regions\.yaml:\d+:\d+ faults\[0\][^\n]*region-partition[^\n]*add targets\.regions/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(tmp, 'reports')) ? readdirSync(path.join(tmp, 'reports')) : []).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('kill -9 of `drill run` and the drill during the partition: `drill cleanup` leaves nothing', { timeout: 300_000 }, async () => {
    const killed = await runAndKill({
      scenario: scenario('region-partition-heal.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'the partition, with the inter-region link running',
      when: (s) => s.started.some((t) => t.includes('The regions stay partitioned')) && s.ledger.resources.some((r) => r.kind === 'process' && r.name === 'toxiproxy-server'),
    });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the link's directory, moto and the databases are still there.
    const before = leftovers(killed.runDir);
    expect(before.filter((l) => l.startsWith('dir ') && l.includes('drill-toxiproxy-'))).toHaveLength(1);
    expect(before.some((l) => l.startsWith('process ') && /postgres/.test(l))).toBe(true);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(leftovers(killed.runDir)).toEqual([]);
  });
});
