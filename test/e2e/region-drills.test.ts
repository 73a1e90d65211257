import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { readResources } from '../../src/engine/resource-ledger.js';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { processesIn } from '../../src/targets/postgres/native-process.js';
import { e2eWorkspace, leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// Region drills through the CLI: real moto (Route 53 API), the drill's real DNS server (UDP),
// real service processes in two loopback ranges, real PostgreSQL.
const { reportsDir, runs, env } = e2eWorkspace('drill-e2e-regions');

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

/** A process's state letter (T: stopped) if it runs and is not a zombie; undefined otherwise. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X' ? undefined : state;
  } catch {
    return undefined;
  }
}

/** The service probes' failed samples after `t`, by the address the client resolved the name to. */
function failedAddressesAfter(journal: Journal, t: number): string[] {
  return [...new Set(journal.probes.filter((p) => !p.ok && p.t > t).map((p) => /@(127\.\d+\.\d+\.\d+)/.exec(p.error ?? '')?.[1] ?? `unnamed: ${p.error}`))].sort();
}

/**
 * The acknowledged writes that are not in the database the drill read back after recovery (the
 * DR region's), counted here from the raw ledger (acks and rows read), not from the RPO judge.
 */
function missingWrites(journal: Journal): Journal['canary']['acks'] {
  const rows = new Set((journal.canary.recovered?.rows ?? []).map((r) => `${r.epoch}:${r.id}`));
  return journal.canary.acks.filter((a) => !rows.has(`${a.epoch}:${a.id}`));
}

const faultEvent = (journal: Journal) => journal.events.find((e) => e.kind === 'fault')!.data as { mode: string; processes: Array<{ name: string; pid: number }> };
const stepOutput = (journal: Journal, name: string) => journal.steps.find((s) => s.name === name)?.output as Record<string, unknown> | undefined;

describe('region loss and DNS failover (moto Route 53, the drill\'s DNS server, two regions of real processes)', () => {
  it('region-outage-dns-failover passes: clients follow the UPSERT once their cached answer expires, and that is in the RTO', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-outage-dns-failover.yaml'));
    expect(code, output).toBe(0);
    const regions = journal.events.find((e) => e.kind === 'regions')!.data as {
      serviceName: string;
      ttl: number;
      regions: Array<{ name: string; range: string; instances: Array<{ url: string }>; database: { name: string; host: string } }>;
    };
    expect(regions.serviceName).toBe('api.truststream.drill.test.');
    // Every listener of a region is in its own range, its PostgreSQL included.
    for (const r of regions.regions) for (const i of r.instances) expect(i.url.startsWith(`http://${r.range.replace(/0\/24$/, '')}`), i.url).toBe(true);
    expect(regions.regions.map((r) => [r.name, r.database.name, r.database.host])).toEqual([
      ['us-west-2', 'primary', '127.0.1.40'],
      ['us-east-1', 'replica-1', '127.0.2.40'],
    ]);
    // The region was lost with its database: the postmaster was among the processes killed.
    expect(faultEvent(journal).processes.map((p) => p.name)).toEqual(expect.arrayContaining(['truststream-api-1', 'primary postmaster']));
    // Runbook order: the DR site activated first (its replica promoted and made the application
    // database), then the DNS failover, then the verification steps against the DR region.
    expect(journal.steps.map((s) => s.name)).toEqual(['activate-dr-site', 'dns-failover', 'verify-dr']);
    expect(stepOutput(journal, 'activate-dr-site')).toMatchObject({
      primaryRegion: 'us-west-2',
      drRegion: 'us-east-1',
      // Killed with its region: nothing answers, and the step says so rather than claiming a fence.
      fenced: { service: expect.stringMatching(/^unreachable/), database: expect.stringMatching(/^unreachable/) },
      promotion: { replica: 'replica-1', chosenBy: 'the database of region us-east-1', oldPrimary: 'primary', timeline: { before: 1, after: 2 } },
      database: { instance: 'replica-1' },
    });
    expect(stepOutput(journal, 'activate-dr-site')).not.toHaveProperty('dnsAnswersDrAfterMs');
    expect(stepOutput(journal, 'dns-failover')).toMatchObject({ database: { instance: 'replica-1', unchanged: true } });
    expect(stepOutput(journal, 'verify-dr')).toMatchObject({ database: { instance: 'replica-1', inRecovery: false, writeCommitted: true } });
    // RPO and integrity are judged in the DR region's database.
    expect(journal.canary.recovered?.instance).toBe('replica-1');
    expect(journal.integrity?.instance).toBe('replica-1');
    // Asynchronous replication: what is lost is measured, not assumed. The judge's count equals the
    // ledger's own, and the old primary's WAL, read offline, agrees (no WAL lost: no write lost).
    const missing = missingWrites(journal);
    expect(journal.measurements.lostWrites).toBe(missing.length);
    expect(journal.measurements.rpoMs).toBeDefined();
    if (missing.length > 0) expect(journal.measurements.rpoMs!).toBeGreaterThan(0);
    expect(typeof journal.measurements.walBytesLost).toBe('number');
    if (journal.measurements.walBytesLost === 0) expect(missing).toEqual([]);
    expect(verdict(journal, 'rpo')?.status).toBe('passed');

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

  it('region-failover-lagging-replica fails on RPO: the DR region lacks 5 s of acknowledged writes, and they are named', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-failover-lagging-replica.yaml'));
    expect(code, output).toBe(1);
    expect(verdict(journal, 'rpo')?.status).toBe('failed');
    expect(verdict(journal, 'recovery-steps')?.status).toBe('passed');
    expect(journal.canary.recovered?.instance).toBe('replica-1');
    // Counted from the ledger, not from the judge: acknowledged by the primary region's API, absent in the promoted DR database.
    const missing = missingWrites(journal);
    const tFault = journal.marks.tFault!.t;
    // ~50 at 100 ms over the 5 s hold; a loaded machine slows the canary.
    expect(missing.length).toBeGreaterThan(5);
    // Every lost write was acknowledged before the region died (T_fault is taken before the kill, so
    // one write in flight at the kill may be acknowledged just after it), and together they cover the 5 s hold.
    expect(missing.filter((ack) => ack.tAck >= tFault).length).toBeLessThanOrEqual(1);
    // RPO counts writes acknowledged before T_fault (DESIGN 4); the one in flight at the kill is not part of it.
    const lostBefore = missing.filter((ack) => ack.tAck < tFault).map((a) => a.tAck);
    const span = Math.max(...lostBefore) - Math.min(...lostBefore);
    expect(span).toBeGreaterThan(3000);
    // The RPO is no better than what is really missing: at least the span of the lost writes.
    expect(journal.measurements.rpoMs!).toBeGreaterThanOrEqual(span);
    expect(journal.measurements.lostWrites).toBe(missing.length);
    // The verdict names them (ids of the lost range) and the old primary's WAL shows bytes the DR region never got.
    const ids = missing.map((a) => a.id);
    expect(verdict(journal, 'rpo')?.message).toContain(`${missing.length} acknowledged writes lost (ids ${Math.min(...ids)}-${Math.max(...ids)}`);
    expect(journal.measurements.walBytesLost!).toBeGreaterThan(0);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-dns-before-promotion fails on smoke: reads pass in the DR region, its unpromoted database refuses the user journey', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-dns-before-promotion.yaml'));
    expect(code, output).toBe(1);
    expect(journal.steps.map((s) => s.name)).toEqual(['dns-failover']);
    // Everything that only reads passes: that is why the negative control matters.
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    expect(verdict(journal, 'recovery-steps')?.status).toBe('passed');
    expect(verdict(journal, 'smoke')?.status).toBe('failed');
    expect(verdict(journal, 'smoke')?.message).toMatch(/POST \/api\/transfers on api\.truststream\.drill\.test@127\.0\.2\.\d: HTTP 503 read_only/);
    // No write acknowledged after the failover: the API canary's writes were refused in the DR region.
    const failoverEnd = journal.steps[0]!.end!.t;
    expect(journal.canary.acks.filter((a) => a.tAck > failoverEnd)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-blackhole-dns-failover passes: the frozen region hangs its clients (timeouts, not refusals) until the failover', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-blackhole-dns-failover.yaml'));
    expect(code, output).toBe(0);
    const fault = faultEvent(journal);
    expect(fault.mode).toBe('blackhole');
    expect(fault.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['truststream-api-1', 'primary postmaster', 'primary backend']));
    const tFault = journal.marks.tFault!.t;
    const failed = journal.probes.filter((p) => !p.ok && p.t > tFault);
    expect(failed.length).toBeGreaterThan(0);
    // Nothing refused the connection: a frozen process's socket still accepts, nobody answers.
    expect(failed.every((p) => /timed out/.test(p.error ?? '')), failed.map((p) => p.error).join('; ')).toBe(true);
    expect(stepOutput(journal, 'promote-replica')).toMatchObject({ replica: 'replica-1', timeline: { after: 2 } });
    // The frozen primary still "runs": promote-replica says so instead of reading its WAL.
    expect(journal.events.some((e) => e.kind === 'split-brain-risk')).toBe(true);
    expect(verdict(journal, 'rpo')?.status).toBe('passed');
    expect(journal.measurements.lostWrites).toBe(missingWrites(journal).length);
    // Teardown killed the frozen processes: none is left stopped (leftovers: none of the run's is alive).
    for (const p of fault.processes) expect(processState(p.pid), `${p.name} ${p.pid}`).not.toBe('T');
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

  it('region-automatic-failover passes: the health checks flip DNS to the DR region without an UPSERT, and detection plus TTL is in the RTO', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-automatic-failover.yaml'));
    expect(code, output).toBe(0);
    expect(journal.steps.map((s) => s.name)).toEqual(['activate-dr-site', 'verify-dr']);
    const tFault = journal.marks.tFault!.t;
    // Failover routing through the API: two failover record sets, health checks run by the drill.
    expect(journal.events.find((e) => e.kind === 'regions')?.data).toMatchObject({ failover: { requestInterval: 1, failureThreshold: 3 } });
    const transitions = journal.events.filter((e) => e.kind === 'health-check');
    const seen = JSON.stringify(transitions.map((e) => ({ t: e.t - tFault, ...e.data })));
    // One transition: the primary region's check went unhealthy after the outage; the DR region's stayed healthy.
    expect(transitions.filter((e) => e.t < tFault), seen).toEqual([]);
    expect(transitions.filter((e) => String(e.data?.endpoint).includes('//127.0.2.')), seen).toEqual([]);
    expect(transitions.map((e) => e.data), seen).toEqual([expect.objectContaining({ healthy: false, consecutive: 3, endpoint: expect.stringMatching(/^http:\/\/127\.0\.1\.1:\d+\/health$/) })]);
    const unhealthyAt = transitions[0]!.t - tFault;
    // Three failed checks one second apart: the third at least two intervals after the fault (timers
    // run late on a loaded machine, never early), and well inside the 30 s objective.
    expect(unhealthyAt).toBeGreaterThanOrEqual(2_000);
    expect(unhealthyAt).toBeLessThan(20_000);
    const activate = stepOutput(journal, 'activate-dr-site')!;
    expect(activate).toMatchObject({
      primaryRegion: 'us-west-2',
      drRegion: 'us-east-1',
      fenced: { service: expect.stringMatching(/^unreachable/), database: expect.stringMatching(/^unreachable/) },
      database: { instance: 'replica-1' },
      promotion: { replica: 'replica-1', chosenBy: 'the database of region us-east-1' },
      ready: { '127.0.2.1': 'HTTP 200', '127.0.2.2': 'HTTP 200' },
    });
    // The step's copy of the same transition: its own instant, journaled as an event a moment later.
    const [copy] = activate.healthTransitions as Array<{ healthy: boolean; afterFaultMs: number }>;
    expect(activate.healthTransitions).toHaveLength(1);
    expect(copy).toMatchObject({ healthy: false });
    expect(copy!.afterFaultMs).toBeLessThanOrEqual(Math.round(unhealthyAt) + 1);
    expect(unhealthyAt - copy!.afterFaultMs).toBeLessThan(1000);
    expect(stepOutput(journal, 'verify-dr')).toMatchObject({ database: { instance: 'replica-1', inRecovery: false, writeCommitted: true }, functional: expect.arrayContaining([expect.objectContaining({ name: 'journey', status: 'passed' })]) });
    // No UPSERT anywhere: no dns-failover step, and the clients' failures are only the lost region's addresses.
    expect(failedAddressesAfter(journal, tFault).every((a) => a.startsWith('127.0.1.'))).toBe(true);
    // The clients were restored after the health checks decided (detection is in the RTO), and within the objective.
    expect(journal.measurements.rtoMs!).toBeGreaterThan(unhealthyAt);
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    expect(verdict(journal, 'rto')?.message).toMatch(/declared it unhealthy at T_fault\+\d/);
    expect(verdict(journal, 'rpo')?.status).toBe('passed');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-automatic-failover-slow-health-check fails on RTO: 3 checks 10 s apart plus the TTL outlast the objective, and the verdict names the window', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-automatic-failover-slow-health-check.yaml'));
    expect(code, output).toBe(1);
    expect(verdict(journal, 'rto')?.status).toBe('failed');
    // Everything else passes: the DR site itself was ready in seconds.
    expect(verdict(journal, 'recovery-steps')?.status).toBe('passed');
    expect(verdict(journal, 'rpo')?.status).toBe('passed');
    const tFault = journal.marks.tFault!.t;
    const down = journal.events.find((e) => e.kind === 'health-check' && e.data?.healthy === false)!;
    // At least two intervals after the first failed check: 20 s, past the RTO of 15 s on its own.
    expect(down.t - tFault).toBeGreaterThanOrEqual(20_000);
    expect(verdict(journal, 'rto')?.message).toMatch(/declared it unhealthy at T_fault\+[2-9]\d(\.\d+)?s \(3 failed checks 10 s apart\).*TTL \(5 s\)/);
    // Clients kept hitting the lost region until DNS moved: their failures past the objective are its addresses.
    const late = journal.probes.filter((p) => !p.ok && p.t > tFault + 15_000);
    expect(late.length).toBeGreaterThan(0);
    expect(failedAddressesAfter(journal, tFault + 15_000).every((a) => a.startsWith('127.0.1.'))).toBe(true);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('region-verify-dr-unpromoted fails on recovery-steps: verify-dr finds the DR database in recovery and the DR functional suite refused, naming both', async () => {
    const { code, output, journal, runDir } = await run(scenario('region-verify-dr-unpromoted.yaml'));
    expect(code, output).toBe(1);
    expect(journal.steps.map((s) => [s.name, s.status])).toEqual([
      ['dns-failover', 'passed'],
      ['verify-dr', 'failed'],
    ]);
    // Reads and health pass in the DR region: a verification of those only would pass.
    expect(verdict(journal, 'rto')?.status).toBe('passed');
    const message = verdict(journal, 'recovery-steps')?.message ?? '';
    expect(verdict(journal, 'recovery-steps')?.status).toBe('failed');
    expect(message).toContain('DR_NOT_VERIFIED');
    expect(message).toContain('database connectivity: replica-1 is still in recovery');
    expect(message).toMatch(/functional suite journey: POST \/api\/transfers on truststream-api-\d: HTTP 503 read_only/);
    expect(message).not.toContain('site health');
    expect(leftovers(runDir)).toEqual([]);
  });

  it('bad failover input: drill run exits 2 naming file, line and key, and starts nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-regions-bad-'));
    try {
      const source = readFileSync(scenario('region-automatic-failover.yaml'), 'utf8');
      const file = path.join(dir, 'bad-failover.yaml');
      // An UPSERT step beside failover routing, and a threshold Route 53 does not take.
      const bad = source.replace('failureThreshold: 3 }', 'failureThreshold: 11 }').replace('  - step: verify-dr\n', '  - step: dns-failover\n    to: dr\n  - step: verify-dr\n');
      writeFileSync(file, bad);
      const lineOf = (text: string) => bad.split('\n').findIndex((l) => l.includes(text)) + 1;
      const result = await runCli(['run', file, '--reports-dir', reportsDir], { env });
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(2);
      expect(output).toContain(`${file}:${lineOf('failureThreshold: 11')}:`);
      expect(output).toMatch(/targets\.regions\.dns\.failover\.failureThreshold: .*at most 10/);
      expect(output).toContain(`${file}:${lineOf('- step: dns-failover')}:`);
      expect(output).toMatch(/recovery\[1\]\.step: .*remove this dns-failover step/);
      // Nothing started: no run directory, no ledger.
      expect(listRunLedgers(runs)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kill -9 of the drill after a blackhole outage: drill cleanup removes moto, both regions\' processes (the frozen ones too), their databases and directories', async () => {
    const killed = await runAndKill({
      scenario: scenario('region-blackhole-dns-failover.yaml'),
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
    // The primary region is frozen: its PostgreSQL (a daemon, outside the killed process group) is
    // stopped, not gone, when cleanup starts.
    const dataDirs = readResources(path.join(killed.runDir, 'resources.jsonl')).flatMap((r) => (r.kind === 'pg-data-dir' ? [r.path] : []));
    const frozen = dataDirs.flatMap((dir) => processesIn(dir)).filter((pid) => processState(pid) === 'T');
    expect(frozen.length).toBeGreaterThan(0);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`run ${killed.runId}`);
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
    for (const pid of frozen) expect(processState(pid), `pid ${pid}`).not.toBe('T');
    expect(dataDirs.flatMap((dir) => processesIn(dir))).toEqual([]);
  });
});
