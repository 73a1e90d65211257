import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { e2eWorkspace, failedChecks, leftovers, readJournal, ROOT, runCli, runDirFrom, verdictOf } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// Network faults on the replication link (link: replication): real PostgreSQL (native), a real
// streaming replica built streaming through a real Toxiproxy, run through the real CLI.
const { reportsDir, env } = e2eWorkspace('drill-e2e-replink');

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);

async function run(file: string): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

interface Lag {
  replica: string;
  replayBytesBehind: number;
  receiveBytesBehind: number;
  replayAgeMs: number | null;
}
const lagEvents = (journal: Journal) => journal.events.filter((e) => e.kind === 'replication-lag').map((e) => ({ t: e.t, ...(e.data as unknown as Lag) }));

/** The replication link's proxy, from the journal's `network` events. */
const replicationProxy = (journal: Journal) => journal.events.find((e) => e.kind === 'network' && (e.data as { link?: string }).link === 'replication');

describe('network faults on the replication link (Toxiproxy between a real primary and its replica)', () => {
  it('net-replica-link-loss passes: the link breaks, lag grows, it is restored and caught up, then a failover loses nothing', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-replica-link-loss.yaml'));
    expect(code, output).toBe(0);

    // The replica was built streaming through the replication proxy (made before it), not from the primary directly.
    const proxy = replicationProxy(journal)!;
    const listen = (proxy.data as { listen: string }).listen;
    const replica = journal.events.find((e) => e.kind === 'replica')!;
    expect(replica.t).toBeGreaterThan(proxy.t);
    expect(replica.data).toMatchObject({ through: listen });

    // T_fault: the reset on the replication proxy, cutting the WAL (downstream). Nothing the application sees fails.
    const fault = journal.events.find((e) => e.kind === 'fault')!;
    expect(fault.data).toMatchObject({ on: 'replication', proxy: 'replication', type: 'reset_peer', stream: 'downstream' });
    const tFault = journal.marks.tFault!.t;
    expect(journal.events.some((e) => e.kind === 'detection-not-applicable')).toBe(true);
    expect(journal.probes.filter((p) => p.t >= tFault && !p.ok)).toEqual([]);

    // Lag grew while the link was down (read once a second, journaled) ...
    const heal = journal.steps.find((s) => s.name === 'remove-network-fault')!;
    const during = lagEvents(journal).filter((l) => l.t >= tFault && l.t < heal.start.t);
    // Readings once a second, each up to 3 s on a loaded machine: two at least in the 4 s wait.
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(during.at(-1)!.replayBytesBehind).toBeGreaterThan(during[0]!.replayBytesBehind);
    expect(during.at(-1)!.replayAgeMs!).toBeGreaterThan(2_000);
    expect(journal.measurements.replicationLagMaxBytes).toBeGreaterThanOrEqual(during.at(-1)!.replayBytesBehind);
    expect(journal.measurements.replicationLagMaxMs).toBeGreaterThan(2_000);
    // ... and the heal waited for the replica to replay what it lacked: lag 0 against the primary's position at the heal.
    const [caught] = (heal.output as { catchUp: Array<{ bytesBehindAtHeal: number; caughtUpMs: number; replayedTo: string; primaryLsnAtHeal: string }> }).catchUp;
    expect(caught!.bytesBehindAtHeal).toBeGreaterThan(5_000);
    expect(journal.measurements.replicationCatchUpMs).toBe(caught!.caughtUpMs);
    const after = lagEvents(journal).filter((l) => l.t > heal.end!.t && l.t < journal.steps.find((s) => s.name === 'promote-replica')!.start.t);
    for (const lag of after) expect(lag.replayBytesBehind).toBeLessThan(caught!.bytesBehindAtHeal);

    // The failover after it lost nothing: not before the fault, not during the outage.
    expect(journal.steps.map((s) => s.name)).toEqual(['wait', 'remove-network-fault', 'stop-writes', 'promote-replica', 'switch-workload', 'resume-writes', 'fence-old-primary']);
    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.measurements.lostWrites).toBe(0);
    expect(journal.canary.acks.filter((a) => a.tAck > tFault && a.tAck < heal.start.t).length).toBeGreaterThan(20);
    expect(verdictOf(journal, 'rpo')?.status).toBe('passed');

    // Two Toxiproxy servers (application link, replication link), both stopped at teardown.
    const resources = readResources(path.join(runDir, 'resources.jsonl'));
    expect(resources.filter((r) => r.kind === 'process' && r.name === 'toxiproxy-server')).toHaveLength(2);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('net-replica-link-loss-failover (negative control) fails on RPO only, naming the writes the primary acknowledged and never streamed', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(scenario('net-replica-link-loss-failover.yaml'));
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['rpo']);
    expect(output).toMatch(/FAIL rpo: RPO \d[\d.]*s exceeds 500ms: \d+ acknowledged writes lost \(ids \d+-\d+, epoch 1\)/);

    // The broken link was a precondition held 4 s before the primary died (T_fault), its lag growing.
    const [link, crash] = journal.events.filter((e) => e.kind === 'fault');
    expect(link!.data).toMatchObject({ on: 'replication', type: 'reset_peer', heldForMs: 4000 });
    expect(crash!.message).toMatch(/primary/);
    const tFault = journal.marks.tFault!.t;
    expect(link!.t).toBeLessThan(tFault);
    const held = lagEvents(journal).filter((l) => l.t < tFault);
    expect(Math.max(...held.map((l) => l.replayBytesBehind))).toBeGreaterThan(5_000);

    // The lost writes are those acknowledged during the outage: about 4 s of a 100 ms canary.
    expect(journal.measurements.rpoMs).toBeGreaterThan(3_000);
    expect(journal.measurements.lostAfterFault).toBeLessThanOrEqual(1);
    // ~40 at 100 ms; a loaded machine slows the canary, so only "many", the RPO above is the measure.
    expect(journal.measurements.lostWrites! - journal.measurements.lostAfterFault!).toBeGreaterThan(10);
    const rpo = verdictOf(journal, 'rpo')!;
    expect(rpo.message).toMatch(/ids \d+-\d+/);
    // The heal after the failover had no standby to wait for.
    expect(journal.steps.find((s) => s.name === 'remove-network-fault')!.output).toMatchObject({ catchUp: [{ replica: 'replica-1', skipped: expect.stringMatching(/promoted/) }] });
    expect(leftovers(runDir)).toEqual([]);
  });

  it('bad input through drill run: link: replication without a replica is exit 2, placed (file, line, key), nothing started', { timeout: 60_000 }, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-replink-bad-'));
    try {
      const file = path.join(tmp, 'no-replica.yaml');
      writeFileSync(file, readFileSync(scenario('net-replica-link-loss.yaml'), 'utf8').replace('replicas: 1', 'replicas: 0'));
      const result = await runCli(['run', file, '--reports-dir', path.join(tmp, 'reports')], { env });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(/no-replica\.yaml:\d+:\d+ faults\[0\]\.link: needs a streaming replica: set targets\.postgres\.replicas: 1 or more/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(tmp, 'reports')) ? readdirSync(path.join(tmp, 'reports')) : []).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('kill -9 of `drill run` and the drill while the replication link is broken: `drill cleanup` leaves nothing', { timeout: 300_000 }, async () => {
    const killed = await runAndKill({
      scenario: scenario('net-replica-link-loss.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'the outage, with both Toxiproxy servers running',
      when: (s) =>
        s.started.some((t) => t.includes('The replication link stays down')) &&
        s.ledger.resources.filter((r) => r.kind === 'process' && r.name === 'toxiproxy-server').length === 2,
    });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the proxies' directories and the servers' data are still there.
    const before = leftovers(killed.runDir);
    expect(before.filter((l) => l.startsWith('dir ') && l.includes('drill-toxiproxy-'))).toHaveLength(2);
    expect(before.some((l) => l.startsWith('process ') && /postgres/.test(l))).toBe(true);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(leftovers(killed.runDir)).toEqual([]);
  });
});
