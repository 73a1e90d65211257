import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KilledRunRecord } from '../../src/cli/finish-run.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill, type RunState } from './kill-helpers.js';
import { expectConservativeRto } from './rto-evidence.js';

// The full-WAL-volume drills on real PostgreSQL through the real CLI: the drill mounts a tmpfs for
// the primary's pg_wal, fills it, and PostgreSQL PANICs on its own. Mounting needs root.
const root = process.getuid?.() === 0;
const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-disk-'));
// A runs directory of this file's own, so its reaper touches no other drill on the machine.
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-disk-runs-'));
const env = { DRILL_RUNS_DIR: runs };
afterAll(async () => {
  await runCli(['cleanup'], { env });
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});

const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);
const step = (journal: Journal, name: string) => journal.steps.find((s) => s.name === name);
const faultEvent = (journal: Journal) => journal.events.find((e) => e.kind === 'fault')!;
const NO_SPACE_PANIC = /PANIC: +could not write to file "pg_wal\/xlogtemp\.\d+": No space left on device/;
const COULD_NOT_EXTEND = /ERROR: +could not extend file "base\/\d+\/t?\d+(_\d+)?": No space left on device/;
const mounts = (lines: string[]) => lines.filter((l) => l.startsWith('mount '));

describe.skipIf(!root)(`full WAL volume (real PostgreSQL, real CLI)${root ? '' : ' (skipped: mounting the volume needs root)'}`, () => {
  it('disk-full-wal-recovery passes: PostgreSQL PANICs on the full volume, space freed, restarted, RPO 0, integrity held', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-full-wal-recovery.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.every((v) => v.status === 'passed')).toBe(true);

    // The fault as PostgreSQL reported it, and its state when recovery began: the server down.
    const fault = faultEvent(journal);
    const details = fault.data as Record<string, unknown>;
    expect(details.serverLog).toMatch(NO_SPACE_PANIC);
    expect(details.serverStopped).toBe(true);
    expect(details.freeBytesAfter).toBe(0);
    expect(details.fillerBytes).toBeGreaterThan(0);
    const tFault = journal.marks.tFault!.t;
    // T_fault is the last write the injector saw succeed: inside the inject phase, before it returned.
    const inject = journal.phases.find((p) => p.name === 'inject')!;
    expect(tFault).toBeGreaterThan(inject.start.t);
    expect(tFault).toBeLessThan(fault.t);

    expect(step(journal, 'free-space')?.output).toMatchObject({ how: 'remove-filler', freedBytes: details.fillerBytes });
    expect(step(journal, 'free-space')?.output?.freeBytesAfter).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(step(journal, 'pg-restart')?.output).toMatchObject({ instance: 'primary', wasRunning: false, acceptsWrites: true });

    const m = journal.measurements;
    expect(m.rpoMs).toBe(0);
    expect(m.lostWrites).toBe(0);
    expect(m.holes).toEqual([]);
    // The restart restores the service: RTO is at least up to its end.
    expect(m.rtoMs).toBeGreaterThanOrEqual(step(journal, 'pg-restart')!.end!.t - tFault);
    expect(journal.canary.acks.filter((a) => a.tAck < tFault).length).toBeGreaterThan(20);
    // Writes went on after the restart, on the same server, and survived.
    expect(journal.canary.acks.some((a) => a.tAck > journal.marks.tRecoveryEnd!.t)).toBe(true);
    expectConservativeRto(journal, 'pg-restart');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('disk-full-restart-without-space fails on RTO, names the PANIC and "No space left on device", exits 1', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-full-restart-without-space.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rto: recovery never stabilised/);
    expect(result.stdout).toMatch(/FAIL recovery-steps: .*pg-restart failed \(PG_RESTART_FAILED: .*No space left on device/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.find((v) => v.check === 'rto')?.status).toBe('failed');
    expect(faultEvent(journal).message).toMatch(NO_SPACE_PANIC);
    const restart = step(journal, 'pg-restart')!;
    expect(restart.status).toBe('failed');
    // The server's own words: crash recovery could not get a new WAL segment.
    expect(restart.error?.message).toMatch(/FATAL: +could not write to file "pg_wal\/xlogtemp\.\d+": No space left on device/);
    expect(journal.measurements.rtoMs).toBeUndefined();
    expect(readFileSync(path.join(runDir, 'incident-report.md'), 'utf8')).toMatch(/No space left on device/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('disk-full-failover passes: the synchronous replica promoted instead of freeing space, RPO 0', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-full-failover.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect((faultEvent(journal).data as Record<string, unknown>).serverStopped).toBe(true);
    expect(step(journal, 'promote-replica')?.output).toMatchObject({ replica: 'replica-1', oldPrimary: 'primary' });
    expect(step(journal, 'switch-workload')?.output).toMatchObject({ from: 'primary', to: 'replica-1' });
    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.measurements.lostWrites).toBe(0);
    expect(journal.canary.recovered?.instance).toBe('replica-1');
    expectConservativeRto(journal, 'switch-workload');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('wal-archive-stuck-recovery passes: WAL piles up while archiving fails, the volume is grown, archiving repaired, pg_wal shrinks', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('wal-archive-stuck-recovery.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const details = faultEvent(journal).data as Record<string, unknown>;
    // No filler: unarchived WAL filled the volume by itself.
    expect(details.lastFailedWal).toMatch(/^[0-9A-F]{24}$/);
    expect(details.serverLog).toMatch(NO_SPACE_PANIC);
    expect(details.serverStopped).toBe(true);
    const tFault = journal.marks.tFault!.t;
    // Archiving broke before the disk filled, which is the outage.
    expect(details.archivingBrokenAt).toBeLessThan(tFault);

    expect(step(journal, 'free-space')?.output).toMatchObject({ how: 'grow', freedBytes: 0, sizeBytes: 64 * 1024 * 1024 });
    expect(step(journal, 'pg-restart')?.output).toMatchObject({ wasRunning: false, acceptsWrites: true });
    const fix = step(journal, 'fix-archiving')!.output as Record<string, number | string>;
    // The restart kept the broken command (ALTER SYSTEM); the step put the configured one back.
    expect(fix.archiveCommand).toMatch(/\/archive\/primary\//);
    expect(fix.segmentsWaitingBefore).toBeGreaterThan(5);
    expect(fix.segmentsArchived).toBeGreaterThanOrEqual(fix.segmentsWaitingBefore as number);
    expect(fix.walBytesAfter).toBeLessThan(fix.walBytesBefore as number);
    // Archiving judged after recovery: a segment switched out in the verify phase reached the archive.
    expect(journal.verdicts.find((v) => v.check === 'archiving')).toMatchObject({ status: 'passed' });
    expect(journal.archiving).toMatchObject({ archived: true, failedCountAfter: journal.archiving!.failedCountBefore });
    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.verdicts.every((v) => v.status === 'passed')).toBe(true);
    expectConservativeRto(journal, 'pg-restart');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('wal-archive-stuck-restart-only fails on RTO: the restart meets the same full volume, exits 1', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('wal-archive-stuck-restart-only.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL rto: recovery never stabilised/);
    const journal = readJournal(runDirFrom(result.stdout, reportsDir));
    expect((faultEvent(journal).data as Record<string, unknown>).serverLog).toMatch(NO_SPACE_PANIC);
    expect(step(journal, 'pg-restart')?.error?.message).toMatch(/FATAL: +could not write to file "pg_wal\/xlogtemp\.\d+": No space left on device/);
    expect(journal.measurements.rtoMs).toBeUndefined();
  });

  it('disk-full-data-recovery passes: writes fail with ERROR "could not extend file" while the server stays up, space freed, writes accepted again, RPO 0', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-full-data-recovery.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.verdicts.every((v) => v.status === 'passed')).toBe(true);
    const details = faultEvent(journal).data as Record<string, unknown>;
    expect(details).toMatchObject({ volumeName: 'data', serverStopped: false });
    expect(details.volume).toMatch(/\/primary\/data$/);
    expect(details.serverLog).toMatch(COULD_NOT_EXTEND);
    // Detected by the write probe, with PostgreSQL's words; the read probe never failed.
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/probe 'writes-accepted' .*could not extend file .*No space left on device/);
    const tFault = journal.marks.tFault!.t;
    expect(journal.probes.filter((p) => p.probe === 'transfers-readable' && p.t > tFault).every((p) => p.ok)).toBe(true);
    expect(step(journal, 'free-space')?.output).toMatchObject({ volumeName: 'data', how: 'remove-filler', freedBytes: details.fillerBytes });
    // Writes accepted again after the step, on the same server that never stopped.
    const freed = step(journal, 'free-space')!.end!.t;
    expect(journal.probes.some((p) => p.probe === 'writes-accepted' && p.ok && p.t > freed)).toBe(true);
    expect(journal.canary.acks.some((a) => a.tAck > journal.marks.tRecoveryEnd!.t)).toBe(true);
    expect(journal.measurements.rpoMs).toBe(0);
    expect(journal.measurements.lostWrites).toBe(0);
    expectConservativeRto(journal, 'free-space');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('disk-full-data-no-free-space fails on RTO naming "could not extend file … No space left on device", exits 1', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('disk-full-data-no-free-space.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    // The last failure is the write probe's ENOSPC, or, when the restart removed the relcache init
    // files and a new session cannot write them back, the server's "could not write init file".
    expect(result.stdout).toMatch(/FAIL rto: recovery never stabilised: .*last failure: probe '[a-z-]+' .*(No space left on device|could not write init file)/);
    // Detected by the write probe, in PostgreSQL's words.
    expect(result.stdout).toMatch(/PASS detection: .*probe 'writes-accepted' .*could not extend file .*No space left on device/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect((faultEvent(journal).data as Record<string, unknown>).serverLog).toMatch(COULD_NOT_EXTEND);
    expect(journal.measurements.rtoMs).toBeUndefined();
    expect(readFileSync(path.join(runDir, 'incident-report.md'), 'utf8')).toMatch(/No space left on device/);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('wal-archive-stuck-without-fix fails on archiving alone: grown and restarted, the service back, but the broken archive_command kept; exits 1', { timeout: 300_000 }, async () => {
    const result = await runCli(['run', scenario('wal-archive-stuck-without-fix.yaml'), '--reports-dir', reportsDir], { env });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL archiving: WAL archiving still broken after recovery on primary: segment [0-9A-F]{24} \(switched out after recovery\) was not archived/);
    const journal = readJournal(runDirFrom(result.stdout, reportsDir));
    // Without the archiving check this drill would pass: every other verdict does.
    expect(journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['archiving']);
    expect(step(journal, 'pg-restart')?.output).toMatchObject({ acceptsWrites: true });
    expect(journal.archiving!.archived).toBe(false);
    expect(journal.archiving!.failedCountAfter).toBeGreaterThan(journal.archiving!.failedCountBefore!);
  });

  // kill -9 of `drill run` and of the drill: the volume stays mounted until a reaper unmounts it.
  const killAt: Array<[string, string, (s: RunState) => boolean, RegExp]> = [
    // PostgreSQL runs with its pg_wal on the volume: the reaper stops it before unmounting.
    ['baseline, the server writing to the volume', 'disk-full-wal-recovery.yaml', (s) => s.started.includes('Baseline (steady state)'), /removed tmpfs mount \/.*volume-wal/],
    // The volume full and the server down: the filler goes with the mount.
    ['verify, the volume full', 'disk-full-restart-without-space.yaml', (s) => s.started.includes('Verify (stability, integrity, ledger)'), /removed tmpfs mount \/.*volume-wal/],
    // The data directory is the mount: the server running on it is stopped first, then it is unmounted.
    ['verify, the data volume full and the server up', 'disk-full-data-no-free-space.yaml', (s) => s.started.includes('Verify (stability, integrity, ledger)'), /removed tmpfs mount \/.*\/primary\/data/],
  ];
  it.each(killAt)('killed at %s: `drill cleanup` unmounts the volume', { timeout: 300_000 }, async (what, file, when, removedMount) => {
    const killed = await runAndKill({ scenario: scenario(file), reportsDir, env, groups: 'cli-and-drill', when, what });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the run leaves its volume mounted.
    expect(mounts(leftovers(killed.runDir))).toHaveLength(1);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(removedMount);
    expect(leftovers(killed.runDir)).toEqual([]);
    const marker = JSON.parse(readFileSync(path.join(killed.runDir, 'killed.json'), 'utf8')) as KilledRunRecord;
    expect(marker).toMatchObject({ runId: killed.runId, status: 'killed', left: [] });
    expect(existsSync(killed.ledgerFile)).toBe(false);
    expect(listRunLedgers(runs)).toEqual([]);
  });
});
