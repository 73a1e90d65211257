import { beforeAll, describe, expect, it } from 'vitest';
import { assessBlastRadius, assessRevocation, judge } from '../../src/assertions/index.js';
import type { AttackAttempt, CanaryAck, Journal, ProbeSample } from '../../src/engine/journal-types.js';
import { loadScenarioFile, type LoadedScenario } from '../../src/scenario/loader.js';
import { deepFreeze, healthyDrill, stamp } from './journal-builder.js';
import { timeline } from '../../src/report/journal-facts.js';
import { measuredVsObjective } from '../../src/report/incident-sections.js';

/**
 * Timeline (run clock, ms) of a breach drill that passes: probes every 250 ms and canary acks every
 * 200 ms throughout; the attacker sends every 200 ms from T_fault = 10000 (answered 5 ms later);
 * the revoke step runs 11900-12100, so requests sent from 12000 on are refused; the last at 30000.
 */
const T_FAULT = 10_000;
const FP = 'sha256:00112233aabbccdd';

let loaded: LoadedScenario;
beforeAll(async () => {
  loaded = await loadScenarioFile('drills/scenarios/breach-leaked-api-token.yaml');
});

function attempts(from: number, to: number, outcome: (t: number) => AttackAttempt['outcome'], every = 200): AttackAttempt[] {
  const out: AttackAttempt[] = [];
  for (let t = from; t <= to; t += every) {
    const o = outcome(t);
    out.push({ credential: FP, t, tEnd: t + 5, outcome: o, ...(o === 'allowed' ? { status: 200 } : o === 'rejected' ? { status: 401 } : { status: 503 }) });
  }
  return out;
}

const revokedAt = (at: number) => (t: number) => (t < at ? 'allowed' : 'rejected');

function breachJournal(options: { attempts?: AttackAttempt[]; failing?: Record<string, [number, number]>; acks?: (t: number) => boolean; tRecoveryEnd?: number } = {}): Journal {
  const probes: ProbeSample[] = [];
  for (const name of ['api-health', 'account-readable']) {
    for (let t = 125; t <= 30_000; t += 250) {
      const [from, to] = options.failing?.[name] ?? [Infinity, Infinity];
      const ok = !(t >= from && t < to);
      probes.push({ probe: name, service: true, t, ok, latencyMs: 3, ...(ok ? {} : { error: 'HTTP 401 unauthorized from truststream-api-1 /api/accounts/1, expected 200' }) });
    }
  }
  probes.sort((a, b) => a.t - b.t);
  const acks: CanaryAck[] = [];
  for (let t = 100, id = 1; t <= 30_000; t += 200) {
    if (options.acks && !options.acks(t)) continue;
    acks.push({ id, epoch: 1, checksum: `c${id}`, tAck: t, clientWall: stamp(t).wall, serverWall: stamp(t).wall });
    id++;
  }
  const end = options.tRecoveryEnd ?? 12_100;
  const base = healthyDrill().build();
  return deepFreeze({
    ...base,
    scenario: { file: loaded.file, sha256: loaded.sha256, definition: loaded.scenario },
    steps: [{ name: 'revoke-all-tokens', title: 'Revoke all API tokens', start: stamp(11_900), end: stamp(12_100), status: 'passed' }],
    probes,
    canary: { acks, attempts: acks.length, failures: 0, recovered: { readAt: stamp(30_500), instance: 'pg-primary', rows: acks.map((a) => ({ id: a.id, epoch: 1, checksumOk: true })) } },
    marks: { tFault: stamp(T_FAULT), tRecoveryStart: stamp(11_900), tRecoveryEnd: stamp(end), tVerified: stamp(30_200) },
    attacker: {
      credentials: [{ kind: 'api-token', name: 'leaked-run', fingerprint: FP, leakedAt: stamp(9_990) }],
      attempts: options.attempts ?? attempts(T_FAULT, 30_000, revokedAt(12_000)),
    },
  });
}

describe('revocation (pure: the attacker\'s attempts against expect.revocation)', () => {
  it('passes: time-to-revoke from the revoke step\'s start up to the answer of the first refusal; the exposure from T_fault beside it', () => {
    const { verdict, measurements } = assessRevocation(breachJournal());
    expect(verdict.status).toBe('passed');
    // Revoke step from 11900; first refused: sent 12000, answered 12005; last allowed: sent 11800 (before the step: lower bound 0).
    expect(measurements).toEqual({ timeToRevokeMs: 105, timeToRevokeLowerBoundMs: 0, timeToRevokeUncertaintyMs: 105, credentialExposureMs: 2005 });
    expect(verdict.message).toBe(
      'time-to-revoke ≤ 105ms from the start of revoke-all-tokens (revoked between 0ms and 105ms after it; the leaked credential worked for at most 2.01s after T_fault) within 30s: 91 attacker attempts refused, none allowed after the first refusal',
    );
    expect(verdict).toMatchObject({ measured: 105, limit: 30_000 });
  });

  it('without a revoke step, time-to-revoke runs from the start of the recovery', () => {
    const journal = structuredClone(breachJournal()) as Journal;
    journal.steps = [{ ...journal.steps[0]!, name: 'service-restart' }];
    journal.marks.tRecoveryStart = stamp(11_000);
    const { verdict, measurements } = assessRevocation(journal);
    expect(measurements).toMatchObject({ timeToRevokeMs: 1005, timeToRevokeLowerBoundMs: 800, credentialExposureMs: 2005 });
    expect(verdict.message).toMatch(/^time-to-revoke ≤ 1\.01s from the start of the recovery \(no revoke step ran\)/);
  });

  it('an isolation before the revoke step starts the clock (its evictions end pod-bound tokens): never measured from the later step', () => {
    // Isolation 5000 ms before the revoke step; refused from 25000 on: 18105 ms after the isolation's start.
    const journal = structuredClone(breachJournal({ attempts: attempts(T_FAULT, 30_000, revokedAt(25_000)), tRecoveryEnd: 25_100 })) as Journal;
    journal.steps = [{ name: 'isolate-compromised-nodes', title: 'Isolate affected systems', start: stamp(6_900), end: stamp(11_800), status: 'passed' }, ...journal.steps];
    const { verdict, measurements } = assessRevocation(journal, 15_000);
    expect(measurements.timeToRevokeMs).toBe(18_105);
    expect(verdict).toMatchObject({ status: 'failed', measured: 18_105, limit: 15_000 });
    expect(verdict.message).toMatch(/^time-to-revoke ≤ 18\.11s from the start of isolate-compromised-nodes /);
    // Negative control: from the revoke step it would read 13.1 s and pass the same limit.
    expect(assessRevocation(breachJournal({ attempts: attempts(T_FAULT, 30_000, revokedAt(25_000)), tRecoveryEnd: 25_100 }), 15_000).verdict.status).toBe('passed');
  });

  it('negative control: a credential never revoked fails, with the requests allowed after the last step', () => {
    const { verdict, measurements } = assessRevocation(breachJournal({ attempts: attempts(T_FAULT, 30_000, () => 'allowed') }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/^api-token leaked-run \(sha256:00112233aabbccdd\) was never revoked: the attacker's last allowed attempt was sent at T_fault\+20s, 90 attempts allowed after the runbook's last step$/);
    expect(measurements).toEqual({});
  });

  it('negative control: a credential allowed again after a refusal came back, and fails', () => {
    const flapping = attempts(T_FAULT, 30_000, (t) => (t >= 12_000 && t < 20_000 ? 'rejected' : 'allowed'));
    const { verdict } = assessRevocation(breachJournal({ attempts: flapping }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/came back: refused at T_fault\+2s, then 51 attacker attempts allowed again/);
  });

  it('negative control: slower than expect.revocation fails; equal to it fails too (limits are exclusive)', () => {
    // Refused from 25000 on, the revoke step started at 11900: 13105 ms after it.
    const slow = breachJournal({ attempts: attempts(T_FAULT, 30_000, revokedAt(25_000)), tRecoveryEnd: 25_100 });
    expect(assessRevocation(slow).verdict).toMatchObject({ status: 'passed', measured: 13_105, limit: 30_000 });
    expect(assessRevocation(slow, 13_000).verdict).toMatchObject({ status: 'failed', measured: 13_105, limit: 13_000 });
    expect(assessRevocation(slow, 13_000).verdict.message).toMatch(/^time-to-revoke ≤ 13\.11s from the start of revoke-all-tokens \(revoked between 12\.9s and 13\.11s after it; .*\) exceeds 13s/);
    expect(assessRevocation(breachJournal(), 105).verdict.status).toBe('failed');
  });

  it('negative control: an attacker that stopped before the runbook ended does not show the credential still refused', () => {
    const { verdict } = assessRevocation(breachJournal({ attempts: attempts(T_FAULT, 12_400, revokedAt(12_000)), tRecoveryEnd: 20_000 }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/no attacker attempt after the runbook's last step shows it still refused .*raise attacker\.maxAttempts or maxDuration/);
    // Attempts after the last step that got no answer (errors) show nothing either.
    const unanswered = attempts(T_FAULT, 30_000, (t) => (t < 12_000 ? 'allowed' : t < 12_400 ? 'rejected' : 'error'));
    expect(assessRevocation(breachJournal({ attempts: unanswered, tRecoveryEnd: 20_000 })).verdict.message).toMatch(/the last refused at T_fault\+2\.2s, the attacker stopped at T_fault\+20s/);
  });

  it('negative control: a leak never proven (no request allowed) fails; errors (503, no answer) neither prove nor refute', () => {
    expect(assessRevocation(breachJournal({ attempts: attempts(T_FAULT, 30_000, () => 'error') })).verdict.message).toMatch(/no attacker attempt was ever allowed with it: the leak was never proven/);
    const withErrors = attempts(T_FAULT, 30_000, (t) => (t < 12_000 ? 'allowed' : t < 13_000 ? 'error' : 'rejected'));
    const { verdict, measurements } = assessRevocation(breachJournal({ attempts: withErrors }));
    expect(verdict.status).toBe('passed');
    // The first refusal is the first answer that proves it: sent 13000, answered 13005 (the step started at 11900).
    expect(measurements.timeToRevokeMs).toBe(1105);
  });
});

describe('blast-radius (pure: legitimate authenticated traffic after the runbook)', () => {
  it('passes when the authenticated probe and the API canary work after the last step (a gap during the step is allowed)', () => {
    const { verdict } = assessBlastRadius(breachJournal({ failing: { 'account-readable': [11_950, 12_100] } }));
    expect(verdict.status).toBe('passed');
    expect(verdict.message).toMatch(/^legitimate traffic kept working after the runbook's last step: 'account-readable' 72\/72, 89 canary writes acknowledged$/);
  });

  it('negative control: the legitimate token revoked with the leaked one fails, naming the probe and its first failure', () => {
    const { verdict } = assessBlastRadius(breachJournal({ failing: { 'account-readable': [11_950, Infinity] }, acks: (t) => t < 11_950 }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/^legitimate users were locked out: probe 'account-readable' failed 72 of 72 samples after the runbook's last step \(first: probe 'account-readable' at T_fault\+2\.1s \(HTTP 401/);
    expect(verdict.message).toMatch(/the API canary had no write acknowledged after the runbook's last step/);
  });

  it('negative control: /health alone is no legitimate user (it sends no token): the check says what to add', () => {
    const journal = structuredClone(breachJournal()) as Journal;
    journal.scenario.definition.workload.probes = journal.scenario.definition.workload.probes.filter((p) => p.name === 'api-health');
    journal.scenario.definition.workload.canary.via = 'sql';
    expect(assessBlastRadius(journal).verdict.message).toMatch(/^no legitimate authenticated traffic to judge: add a service probe of an \/api\/ path/);
  });
});

describe('judge: what applies to a leaked credential', () => {
  it('revocation and blast-radius, no detection (nothing goes down); a database drill has neither', () => {
    const breach = judge(breachJournal());
    expect(breach.verdicts.map((v) => v.check)).toEqual(['steady-state', 'rto', 'rpo', 'integrity', 'recovery-steps', 'revocation', 'blast-radius']);
    expect(breach.measurements.timeToRevokeMs).toBe(105);
    expect(judge(healthyDrill().build()).verdicts.map((v) => v.check)).not.toContain('revocation');
    expect(judge(healthyDrill().build()).verdicts.map((v) => v.check)).toContain('detection');
  });
});

describe('incident report timeline of a breach drill', () => {
  it('names the leak by fingerprint, the last allowed use and the revocation as seen', () => {
    const journal = breachJournal();
    const judged = { ...journal, measurements: judge(journal).measurements };
    const rows = timeline(judged).map((r) => `${r.t} ${r.event}`);
    expect(rows).toContain('9990 Credential leaked to the attacker: api-token leaked-run (sha256:00112233aabbccdd)');
    expect(rows).toContain('11800 Last attacker use allowed with the leaked credential: the true revocation lies after this');
    expect(rows).toContain('12005 Leaked credential seen revoked (an attacker use refused, none allowed after it): time-to-revoke ≤ 105ms from the start of revoke-all-tokens');
    // A drill that leaks nothing has none of these rows.
    expect(timeline(healthyDrill().build()).some((r) => /attacker|leaked/i.test(r.event))).toBe(false);
  });
});

describe('incident report of a breach drill', () => {
  it('shows time-to-revoke as an upper bound against its limit, and no detection row (nothing to detect)', () => {
    const journal = breachJournal();
    const judged = judge(journal);
    const table = measuredVsObjective({ ...journal, verdicts: judged.verdicts, measurements: judged.measurements });
    expect(table).toMatch(/^\| revocation \| ≤ 105ms \| 30s \| PASS \| time-to-revoke ≤ 105ms from the start of revoke-all-tokens/m);
    expect(table).not.toMatch(/Detection latency/);
    // A drill whose fault takes the service down keeps its detection row.
    expect(measuredVsObjective(healthyDrill().build())).toMatch(/Detection latency/);
  });
});
