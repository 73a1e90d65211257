import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { e2eWorkspace, catalogueScenario, failedChecks, leftovers, readJournal, runCli, runDirFrom, verdictOf } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// The clock-skew fault on the real service (plain processes with libfaketime preloaded, from the
// faketime package npm run setup installs) and real PostgreSQL, through the real CLI.
const { reportsDir, env } = e2eWorkspace('drill-e2e-clock');

async function run(file: string, more: Record<string, string> = {}): Promise<{ code: number | null; output: string; journal: Journal; runDir: string }> {
  const result = await runCli(['run', file, '--reports-dir', reportsDir], { env: { ...env, ...more } });
  const runDir = runDirFrom(result.stdout, reportsDir);
  return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
}

/** Processes still running with libfaketime preloaded that belong to this run (its service temp dirs in their arguments). */
function skewedProcessesOf(runDir: string): string[] {
  const dirs = readResources(path.join(runDir, 'resources.jsonl'))
    .filter((r) => r.kind === 'temp-dir' && path.basename(r.path).startsWith('drill-sut-'))
    .map((r) => path.basename((r as { path: string }).path));
  expect(dirs.length).toBeGreaterThan(0);
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (environ.includes('FAKETIME=') && dirs.some((d) => args.includes(d))) found.push(`${pid} ${args}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

const faultData = (journal: Journal) => journal.events.find((e) => e.kind === 'fault')!.data as {
  offset: string;
  offsetMs: number;
  readings: Array<{ endpoint: string; date: string; offsetLowMs: number; offsetHighMs: number }>;
};

describe('clock-skew on the service (libfaketime, real processes, real PostgreSQL)', () => {
  it('clock-skew-service-recovery passes: every process shows +2h, the clock probe detects it, clock-sync fixes it; no data was stamped wrong', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(catalogueScenario('clock-skew-service-recovery.yaml'));
    expect(code, output).toBe(0);

    // The fault was seen on every process of every mode (2 api, worker, scheduler) before it counted.
    const fault = faultData(journal);
    expect(fault.offset).toBe('+2h');
    expect(fault.readings.map((r) => r.endpoint).sort()).toEqual(['truststream-api-1', 'truststream-api-2', 'truststream-scheduler-1', 'truststream-worker-1']);
    for (const r of fault.readings) {
      expect(r.offsetLowMs - 1000).toBeLessThanOrEqual(7_200_000);
      expect(r.offsetHighMs + 1000).toBeGreaterThanOrEqual(7_200_000);
    }
    // Detected by the clock probe only: the service answered every request meanwhile.
    const tFault = journal.marks.tFault!.t;
    const failed = journal.probes.filter((p) => p.t >= tFault && !p.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const sample of failed) expect(sample.probe).toBe('api-health-and-clock');
    for (const sample of failed) expect(sample.error).toMatch(/^clock skew: truststream-api-\d \/health answered Date: .*, at least \+1h59m5\d[.\d]*s ahead of the drill's clock \(maxClockSkew 5s\)$/);
    expect(verdictOf(journal, 'detection')?.status).toBe('passed');

    // clock-sync: the same release restarted with the true clock, every process within 2 s.
    const sync = journal.steps.find((s) => s.name === 'clock-sync')!;
    expect(sync.status).toBe('passed');
    const out = sync.output as { clock: { from: string; to: string }; version: { from: string; to: string }; readings: Array<{ offsetLowMs: number; offsetHighMs: number }> };
    expect(out.clock).toEqual({ from: '+2h', to: '+0ms' });
    expect(out.version).toEqual({ from: '4.4.0', to: '4.4.0' });
    expect(out.readings).toHaveLength(4);
    for (const r of out.readings) expect(r.offsetLowMs <= 2000 && r.offsetHighMs >= -2000).toBe(true);
    expect(journal.marks.tFault!.t + journal.measurements.rtoMs!).toBeGreaterThanOrEqual(sync.end!.t);

    // What the skew did not break: writes acknowledged during it are stamped by the database's clock.
    const duringSkew = journal.canary.acks.filter((a) => a.tAck > tFault && a.tAck < sync.start.t);
    expect(duringSkew.length).toBeGreaterThan(3);
    expect(verdictOf(journal, 'integrity')?.status).toBe('passed');
    expect(verdictOf(journal, 'rpo')?.status).toBe('passed');

    // Teardown left nothing: no skewed process, no directory.
    expect(skewedProcessesOf(runDir)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('clock-skew-restart-keeps-skew (negative control) fails on RTO: a restart without fixing the clock keeps it -10m, and says so', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(catalogueScenario('clock-skew-restart-keeps-skew.yaml'));
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['rto']);
    expect(verdictOf(journal, 'rto')?.message).toMatch(/recovery never stabilised: .*clock skew: truststream-api-\d \/health answered Date: .*, at least -9m5\d[.\d]*s behind the drill's clock/);
    // The restart happened and kept the skew: new processes, the same wrong clock.
    const restart = journal.steps.find((s) => s.name === 'service-restart')!;
    expect(restart.status).toBe('passed');
    expect(journal.probes.filter((p) => p.t > restart.end!.t && !p.ok).length).toBeGreaterThan(10);
    expect(journal.probes.some((p) => p.t > restart.end!.t + 1000 && p.ok)).toBe(false);
    expect(skewedProcessesOf(runDir)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('clock-skew-app-clock-timestamps (negative control) fails on integrity only: release 4.4.5 stamped the writes of the skew two hours late', { timeout: 300_000 }, async () => {
    const { code, output, journal } = await run(catalogueScenario('clock-skew-app-clock-timestamps.yaml'));
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['integrity']);
    expect(verdictOf(journal, 'rto')?.status).toBe('passed');
    expect(verdictOf(journal, 'integrity')?.message).toMatch(/ledger \(\d+ acknowledged writes stamped outside their own request \(ids \d+-\d+, epoch 1; up to \+1h59m5\d[.\d]*s off\)/);
    // Exactly the writes acknowledged while the clock was off (between the fault and the sync) are named.
    const tFault = journal.marks.tFault!.t;
    const sync = journal.steps.find((s) => s.name === 'clock-sync')!;
    const stampedLate = journal.canary.acks.filter((a) => Date.parse(a.serverWall) - Date.parse(a.clientWall) > 3_600_000);
    expect(stampedLate.length).toBeGreaterThan(3);
    for (const a of stampedLate) expect(a.tAck > tFault && a.tAck <= sync.end!.t).toBe(true);
  });

  it('clock-skew-app-clock-restamp passes: the same skew, synced, and the transfers it stamped re-stamped from their outbox entries', { timeout: 300_000 }, async () => {
    const { code, output, journal } = await run(catalogueScenario('clock-skew-app-clock-restamp.yaml'));
    expect(code, output).toBe(0);
    // The wrong stamps were there (the replies said so) and were repaired in the database.
    const stampedLate = journal.canary.acks.filter((a) => Date.parse(a.serverWall) - Date.parse(a.clientWall) > 3_600_000);
    expect(stampedLate.length).toBeGreaterThan(3);
    const restamp = journal.steps.find((s) => s.name === 'clock-restamp')!;
    const out = restamp.output as { restamped: number; offsetMs: { min: number; max: number } };
    expect(out.restamped).toBeGreaterThanOrEqual(stampedLate.length);
    expect(out.offsetMs.min).toBeGreaterThan(7_100_000);
    expect(out.offsetMs.max).toBeLessThan(7_300_000);
    // The ledger reads what is stored: every write's commit time is within its own request now.
    const rows = new Map(journal.canary.recovered!.rows.map((r) => [`${r.epoch}:${r.id}`, r]));
    for (const a of stampedLate) expect(Math.abs(Date.parse(rows.get(`${a.epoch}:${a.id}`)!.committedAt!) - Date.parse(a.clientWall))).toBeLessThan(5000);
    expect(verdictOf(journal, 'integrity')?.status).toBe('passed');
  });

  it('without libfaketime: exit 3 naming the faketime package, nothing left', { timeout: 300_000 }, async () => {
    const { code, output, journal, runDir } = await run(catalogueScenario('clock-skew-service-recovery.yaml'), { DRILL_LIBFAKETIME: '/nonexistent/faketime/libfaketime.so.1' });
    expect(code, output).toBe(3);
    expect(journal.error).toMatchObject({ code: 'LIBFAKETIME_MISSING', message: expect.stringMatching(/install the faketime package \(Debian\/Ubuntu: sudo apt-get install faketime\)/) });
    expect(leftovers(runDir)).toEqual([]);
  });

  it('a bad offset: exit 2 naming file, line and key, nothing started', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-clock-bad-'));
    try {
      const file = path.join(dir, 'bad.yaml');
      writeFileSync(file, readFileSync(catalogueScenario('clock-skew-service-recovery.yaml'), 'utf8').replace('offset: +2h', 'offset: 2h'));
      const bad = path.join(dir, 'reports');
      const result = await runCli(['run', file, '--reports-dir', bad], { env });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`${file}:\\d+:\\d+ faults\\[0\\]\\.offset: "2h" is not valid: a signed offset like \\+2h, -10m`));
      expect(existsSync(bad)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kill -9 of `drill run` and the drill while the service runs skewed: `drill cleanup` leaves no process or directory', { timeout: 300_000 }, async () => {
    const killed = await runAndKill({
      scenario: catalogueScenario('clock-skew-restart-keeps-skew.yaml'),
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'detection, with the skewed processes running',
      when: (s) => s.started.includes('Detect'),
    });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the launches' directories are still there.
    expect(leftovers(killed.runDir).some((l) => l.startsWith('dir ') && l.includes('drill-sut-'))).toBe(true);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(skewedProcessesOf(killed.runDir)).toEqual([]);
    expect(leftovers(killed.runDir)).toEqual([]);
  });
});
