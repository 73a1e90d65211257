import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Journal, MonitorSample } from '../../src/engine/journal-types.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-promotion-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const stepOutput = (journal: Journal, name: string) => journal.steps.find((s) => s.name === name)?.output ?? {};
const monitored = (journal: Journal, instance: string, kind: MonitorSample['kind']) =>
  (journal.monitoring ?? []).filter((m) => m.instance === instance && m.kind === kind);

describe('primary failure and replica promotion (real PostgreSQL, real CLI)', () => {
  it('pg-primary-failure-promotion passes: synchronous replica promoted, RPO 0, old primary fenced', async () => {
    const result = await runCli(['run', scenario('pg-primary-failure-promotion.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.status).toBe('passed');
    expect(journal.verdicts.every((v) => v.status === 'passed')).toBe(true);

    const m = journal.measurements;
    expect(m.rpoMs).toBe(0);
    expect(m.lostWrites).toBe(0);
    // Measured from the LSNs: what the old primary had beyond the fork was never acknowledged.
    expect(m.walBytesLost).toBeGreaterThanOrEqual(0);
    expect(m.rtoMs).toBeGreaterThan(0);
    expect(journal.canary.acks.filter((a) => a.tAck < journal.marks.tFault!.t).length).toBeGreaterThan(20);
    // Writes went on after the switch, in a new epoch, on the promoted replica.
    expect(journal.canary.acks.some((a) => a.epoch === 2)).toBe(true);
    expect(journal.canary.recovered?.instance).toBe('replica-1');

    expect(stepOutput(journal, 'promote-replica')).toMatchObject({ replica: 'replica-1', oldPrimary: 'primary' });
    expect(stepOutput(journal, 'switch-workload')).toMatchObject({ from: 'primary', to: 'replica-1' });
    expect(stepOutput(journal, 'fence-old-primary')).toMatchObject({
      instance: 'primary',
      restart: 'came up in recovery (read-only)',
      leftStopped: true,
    });

    // Monitoring: connections and replication lag sampled through baseline and recovery.
    expect(monitored(journal, 'primary', 'connections').length).toBeGreaterThan(2);
    expect(monitored(journal, 'replica-1', 'replication-lag-bytes').length).toBeGreaterThan(2);
    expect(monitored(journal, 'replica-1', 'connections').some((s) => s.t > journal.marks.tRecoveryEnd!.t && s.value > 0)).toBe(true);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('pg-promotion-lagging-replica fails on RPO, names the lost writes, exits 1', async () => {
    const result = await runCli(['run', scenario('pg-promotion-lagging-replica.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rpo: RPO \d[\d.]*s exceeds 2s: \d+ acknowledged writes lost \(ids \d+-\d+, epoch 1\)/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['rpo']);
    const tFault = journal.marks.tFault!.t;
    // The held-back writes were acknowledged before T_fault (the SIGKILL), not after it. A commit
    // in flight at the kill may still be acknowledged by its orphaned backend just after it: the
    // writer has at most one write in flight.
    expect(journal.measurements.rpoMs).toBeGreaterThan(4000);
    expect(journal.measurements.lostAfterFault).toBeLessThanOrEqual(1);
    expect(journal.measurements.lostWrites! - journal.measurements.lostAfterFault!).toBeGreaterThan(30);
    expect(journal.measurements.walBytesLost).toBeGreaterThan(1000);
    const lag = journal.events.find((e) => e.kind === 'fault' && /held back/.test(e.message));
    expect(lag!.t).toBeLessThan(tFault);
    // The monitor saw the lag grow while replication was held back, before the primary died.
    const lagBytes = monitored(journal, 'replica-1', 'replication-lag-bytes').filter((s) => s.t < tFault).map((s) => s.value);
    expect(Math.max(...lagBytes)).toBeGreaterThan(10_000);
    expect(Math.max(...monitored(journal, 'replica-1', 'replication-lag-seconds').map((s) => s.value))).toBeGreaterThan(2);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('validate: replica faults and steps without a usable replica are invalid (exit 2)', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-promotion-validate-'));
    try {
      const source = readFileSync(scenario('pg-promotion-lagging-replica.yaml'), 'utf8');
      const noReplica = path.join(tmp, 'no-replica.yaml');
      writeFileSync(noReplica, source.replace('replicas: 1', 'replicas: 0'));
      const sync = path.join(tmp, 'sync.yaml');
      writeFileSync(sync, source.replace('replication: async', 'replication: sync').replace('name: pg-promotion-lagging-replica', 'name: sync-lag'));
      const result = await runCli(['validate', noReplica, sync]);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(/no-replica\.yaml:\d+:\d+ faults\[0\]\.type: needs a streaming replica: set targets\.postgres\.replicas: 1 or more/);
      expect(result.stderr).toMatch(/no-replica\.yaml:\d+:\d+ recovery\[0\]\.step: needs a streaming replica/);
      expect(result.stderr).toMatch(/sync\.yaml:\d+:\d+ faults\[0\]\.type: holding back a synchronous replica stops every commit/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
