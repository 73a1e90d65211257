import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { drillfsBinary } from '../../src/targets/process/drillfs-binary.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';
import { expectConservativeRto } from './rto-evidence.js';

// Disk I/O errors on real PostgreSQL through the real CLI: the primary's data directory is on
// drillfs (tools/drillfs, a FUSE passthrough), which fails reads of one table's file with EIO.
// Needs root, /dev/fuse and the built drillfs (npm run setup).
const ready = process.getuid?.() === 0 && existsSync('/dev/fuse') && existsSync(drillfsBinary());
const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-disk-io-'));
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-disk-io-runs-'));
const env = { DRILL_RUNS_DIR: runs };
afterAll(async () => {
  await runCli(['cleanup'], { env });
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const step = (journal: Journal, name: string) => journal.steps.find((s) => s.name === name);
const faultEvent = (journal: Journal) => journal.events.find((e) => e.kind === 'fault')!;
const READ_EIO = /could not read block \d+ in file "base\/\d+\/\d+": Input\/output error/;

describe.skipIf(!ready)(`disk I/O errors (real PostgreSQL on drillfs, real CLI)${ready ? '' : ' (skipped: needs root, /dev/fuse and drillfs built by npm run setup)'}`, () => {
  it('disk-io-errors-failover passes: reads of transfers fail with EIO, the synchronous replica promoted, RPO 0, integrity held', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-io-errors-failover.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const details = faultEvent(journal).data as Record<string, unknown>;
    expect(details).toMatchObject({ table: 'transfers', ops: 'read', firstError: expect.stringMatching(READ_EIO) });
    expect((details.hits as Record<string, number>).eio).toBeGreaterThan(0);
    // Detected by the probe that reads the table, in PostgreSQL's words.
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/probe 'transfers-readable' .*Input\/output error/);
    expect(step(journal, 'promote-replica')?.output).toMatchObject({ replica: 'replica-1', oldPrimary: 'primary' });
    expect(journal.canary.recovered?.instance).toBe('replica-1');
    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.verdicts.every((v) => v.status === 'passed')).toBe(true);
    expectConservativeRto(journal, 'switch-workload');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('disk-io-errors-restart-only fails on RTO naming the I/O error, exits 1', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-io-errors-restart-only.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rto: recovery never stabilised: .*last failure: probe 'transfers-readable' .*could not read block \d+ in file .*Input\/output error/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(step(journal, 'pg-restart')?.status).toBe('passed');
    expect(journal.measurements.rtoMs).toBeUndefined();
    expect(leftovers(runDir)).toEqual([]);
  });

  it('killed at verify: `drill cleanup` stops the server, unmounts drillfs, and its daemon ends', { timeout: 300_000 }, async () => {
    const killed = await runAndKill({
      scenario: scenario('disk-io-errors-restart-only.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'verify',
      when: (s) => s.started.includes('Verify (stability, integrity, ledger)'),
    });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the run leaves the mount.
    expect(leftovers(killed.runDir).filter((l) => l.startsWith('mount '))).toHaveLength(1);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/removed drillfs mount \/.*\/primary\/data/);
    // The daemon ends once its mount is gone.
    for (let i = 0; i < 50 && leftovers(killed.runDir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(killed.runDir, 'killed.json'), 'utf8'))).toMatchObject({ runId: killed.runId, status: 'killed', left: [] });
    expect(listRunLedgers(runs)).toEqual([]);
  });

  it('without the built drillfs the drill stops before anything starts: exit 3 saying what to run', { timeout: 60_000 }, async () => {
    const result = await runCli(['run', scenario('disk-io-errors-restart-only.yaml'), '--reports-dir', reportsDir], { env: { ...env, DRILL_CACHE_DIR: path.join(reportsDir, 'no-cache') } });
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout + result.stderr).toMatch(/DRILLFS_MISSING|drillfs v0\.1\.0, which is not built at .*; run npm run setup/);
  });
});
