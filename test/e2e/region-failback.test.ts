import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { processesIn } from '../../src/targets/postgres/native-process.js';
import { e2eWorkspace, catalogueScenario, failedChecks, leftovers, readJournal, runCli, runDirFrom, verdictOf } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// Failback through the CLI (issue 9): the region drills' real moto, DNS server, two regions of
// real processes and real PostgreSQL, then the lost primary region rebuilt and switched back to.
const { reportsDir, env } = e2eWorkspace('drill-e2e-failback');

async function run(file: string): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

/** Acknowledged writes missing from the database read back at the end, counted from the raw ledger (not the judge). */
function missingWrites(journal: Journal): Journal['canary']['acks'] {
  const rows = new Set((journal.canary.recovered?.rows ?? []).map((r) => `${r.epoch}:${r.id}`));
  return journal.canary.acks.filter((a) => !rows.has(`${a.epoch}:${a.id}`));
}

interface FailbackOutput {
  primaryRegion: string;
  rebuild: { instance: string; upstream: string; slot: string; caughtUp: { target: string; replayedTo: string } };
  service: { restarted: string[]; instances: Array<{ url: string }> };
  switchover: { fence: { lsn: string } | string; fenceVerified?: { sqlstate: string }; target: string; caughtUp: { replayedTo: string } | { skipped: string }; promotion: { instance: string; timeline: number } };
  dns: { region: string; database: { instance: string }; record: { from: string[]; to: string[] } };
  postcondition: { database: { inRecovery: boolean; writeCommitted: boolean }; dns: string[] };
}

const failbackOf = (journal: Journal) => journal.steps.find((s) => s.name === 'failback')!;
const promotedAt = (journal: Journal, kind: string) => {
  const e = journal.events.find((x) => x.kind === kind)!;
  return (e.data as { promoteSentAt: number; timeline?: number });
};

describe('failback: the lost primary region rebuilt as a replica of the DR primary and switched back to', () => {
  it('region-failover-and-failback passes with nothing acknowledged lost across both moves, judged in the primary region\'s database', async () => {
    const { code, output, journal, runDir } = await run(catalogueScenario('region-failover-and-failback.yaml'));
    expect(code, output).toBe(0);
    const step = failbackOf(journal);
    expect(step.status).toBe('passed');
    const out = step.output as unknown as FailbackOutput;
    // The old primary's instance (its own address and port) rebuilt from the DR region's promoted replica.
    expect(out.rebuild).toMatchObject({ instance: 'primary', upstream: 'replica-1', slot: 'drill_primary' });
    // The region's service processes started again on the primary region's own range.
    expect(out.service.restarted).toEqual(['api', 'worker']);
    for (const i of out.service.instances) expect(i.url, i.url).toMatch(/^http:\/\/127\.0\.1\.\d+:/);
    // Fenced, then replayed up to the DR primary's final position before the promotion, on a timeline after the DR's.
    expect(typeof out.switchover.fence).toBe('object');
    expect(out.switchover.target).toBe((out.switchover.fence as { lsn: string }).lsn);
    expect('replayedTo' in out.switchover.caughtUp).toBe(true);
    // The fence checked to hold: a new session's write refused (25006), journalled before the promotion.
    const verified = journal.events.find((e) => e.kind === 'dr-fence-verified');
    expect(verified?.data).toMatchObject({ sqlstate: '25006' });
    expect(verified!.t).toBeLessThan(journal.events.find((e) => e.kind === 'failback-promoted')!.t);
    expect(out.switchover.fenceVerified).toMatchObject({ sqlstate: '25006' });
    const drTimeline = promotedAt(journal, 'promoted').timeline!;
    expect(out.switchover.promotion.instance).toBe('primary');
    expect(out.switchover.promotion.timeline).toBeGreaterThan(drTimeline);
    // DNS back to the primary region through the Route 53 UPSERT, and the application database with it.
    expect(out.dns).toMatchObject({ region: 'us-west-2', database: { instance: 'primary' }, record: { from: ['127.0.2.1', '127.0.2.2'], to: ['127.0.1.1', '127.0.1.2'] } });
    expect(out.postcondition).toMatchObject({ database: { inRecovery: false, writeCommitted: true }, dns: ['127.0.1.1', '127.0.1.2'] });

    // Judged where the service ends: the primary region's database.
    const rpo = verdictOf(journal, 'rpo')!;
    expect(rpo.status, rpo.message).toBe('passed');
    expect(rpo.details).toMatchObject({ recoveredFrom: 'primary' });
    expect(missingWrites(journal)).toEqual([]);
    // Writes were acknowledged in all three places: before the outage, in the DR region, and back in the primary region after the failback.
    const failbackPromoted = promotedAt(journal, 'failback-promoted').promoteSentAt;
    const tFault = journal.marks.tFault!.t;
    expect(journal.canary.acks.some((a) => a.tAck < tFault)).toBe(true);
    expect(journal.canary.acks.some((a) => a.tAck > tFault && a.tAck < failbackPromoted)).toBe(true);
    expect(journal.canary.acks.some((a) => a.tAck > step.end!.t)).toBe(true);
    expect(verdictOf(journal, 'integrity')?.status).toBe('passed');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control region-failback-unfenced fails on RPO, naming the writes the DR acknowledged after failback\'s switchover began', async () => {
    const { code, output, journal, runDir } = await run(catalogueScenario('region-failback-unfenced.yaml'));
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toContain('rpo');
    // Writes of the new epoch that went to the DR primary through a cached answer lie below ids the
    // primary region took after them: holes, which fail integrity with it, naming them; nothing else fails.
    expect(failedChecks(journal).filter((c) => c !== 'rpo' && c !== 'integrity')).toEqual([]);
    const integrity = verdictOf(journal, 'integrity')!;
    if (integrity.status === 'failed') expect(integrity.message).toMatch(/holes?: ids \d+/);
    const step = failbackOf(journal);
    expect(step.status).toBe('passed');
    expect((step.output as unknown as FailbackOutput).switchover.caughtUp).toEqual({ skipped: 'fenceDr: false' });
    expect(journal.events.some((e) => e.kind === 'dr-fence-verified')).toBe(false);
    const rpo = verdictOf(journal, 'rpo')!;
    expect(rpo.message).toMatch(/^\d+ writes? \(ids? .*\) (was|were) acknowledged after failback's switchover began \(the DR position the rebuilt primary had to reach, then its promotion\) and (is|are) missing from it/);
    // What the judge names is what the raw ledger shows: every missing write acknowledged after the
    // switchover began (the DR position read for the rebuilt primary, before its pg_promote).
    const missing = missingWrites(journal);
    expect(missing.length).toBeGreaterThan(0);
    const switchover = journal.events.find((e) => e.kind === 'dr-writes-not-fenced')!.t;
    expect(switchover).toBeLessThanOrEqual(promotedAt(journal, 'failback-promoted').promoteSentAt);
    for (const a of missing) expect(a.tAck, `epoch ${a.epoch} id ${a.id}`).toBeGreaterThanOrEqual(switchover);
    const named = (rpo.details as { lostAfterFailback: Array<{ epoch: number; ranges: Array<[number, number]> }> }).lostAfterFailback;
    const namedIds = named.flatMap((g) => g.ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => `${g.epoch}:${from + i}`))).sort();
    expect(namedIds).toEqual(missing.map((a) => `${a.epoch}:${a.id}`).sort());
    expect(leftovers(runDir)).toEqual([]);
  });

  it('kill -9 of the drill during the failback: drill cleanup removes the rebuilt database, both regions\' processes and every directory', async () => {
    const killed = await runAndKill({
      scenario: catalogueScenario('region-failover-and-failback.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'the failback, its database rebuilt',
      // Killed once the rebuilt server runs in the old primary's data directory (the lost one was killed before the failback began).
      when: (s) => {
        if (!s.started.some((t) => t.startsWith('Failback'))) return false;
        const primaryDir = s.ledger.resources.flatMap((r) => (r.kind === 'pg-data-dir' && r.path.endsWith('/primary/data') ? [r.path] : []))[0];
        return primaryDir !== undefined && processesIn(primaryDir).length > 0;
      },
    });
    await ownersGone(killed.ledgerFile);
    const dataDirs = readResources(path.join(killed.runDir, 'resources.jsonl')).flatMap((r) => (r.kind === 'pg-data-dir' ? [r.path] : []));
    const primaryDir = dataDirs.find((d) => d.endsWith('/primary/data'))!;
    // The rebuilt server (a daemon, outside the killed process groups) still runs when cleanup starts.
    expect(processesIn(primaryDir).length).toBeGreaterThan(0);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
    expect(dataDirs.flatMap((dir) => processesIn(dir))).toEqual([]);
  });
});
