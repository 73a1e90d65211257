import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../../sut/truststream/test/support/test-database.js';
import { assessRevocation } from '../../src/assertions/index.js';
import type { DrillContext, FaultHandle } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { credentialFingerprint, injectCredentialLeak } from '../../src/injectors/credential-leak.js';
import { revokeAllTokens } from '../../src/recovery/revoke-all-tokens.js';
import { writeRunArtifacts } from '../../src/report/write-run-artifacts.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import type { Fault, RecoveryStep } from '../../src/scenario/schema.js';
import { PlainService } from '../../src/targets/service/plain-service.js';
import { ServiceHttpProbe } from '../../src/workload/probes/service-http-probe.js';
import { scanFiles } from '../e2e/secret-scan.js';
import { capturingRecorder } from '../support/capturing-recorder.js';

let db: TestDatabase;
let work: string;
let service: PlainService | undefined;

beforeAll(async () => {
  db = await startTestDatabase('test-credential-leak');
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-credential-leak-'));
});
afterAll(async () => {
  await db?.dispose();
  rmSync(work, { recursive: true, force: true });
});

interface Drill {
  ctx: DrillContext;
  recorder: JournalRecorder;
  teardown: TeardownStack;
  /** Every secret the run registered, by what it is (captured from the Redactor as it is told). */
  secrets: Map<string, string>;
}

/** The service as plain processes (one API process) with a drill token, and the parts of a DrillContext the fault and the step use. */
async function drill(runId: string): Promise<Drill> {
  const loaded = await loadScenarioFile('drills/scenarios/breach-leaked-api-token.yaml');
  const { recorder, secrets } = capturingRecorder(runId, loaded);
  const tokenName = `drill-${runId}`;
  const token = await db.token(tokenName);
  recorder.secrets.register(token, 'the drill token');
  const teardown = new TeardownStack();
  service = await PlainService.start(
    {
      runId,
      ledger: new ResourceLedger(undefined),
      version: '4.4.0',
      replicas: { api: 1, worker: 0, scheduler: 0, reader: 0 },
      database: db.connection,
      token,
      tokenName,
      readyTimeoutMs: 30_000,
    },
    (s) => (service = s),
  );
  const ctx = {
    runId,
    scenario: loaded.scenario,
    clock: recorder.clock,
    recorder,
    signal: new AbortController().signal,
    teardown,
    service,
    pg: db.deployment,
    router: { connection: db.connection },
    has: (part: string) => part === 'service' || part === 'router',
  } as unknown as DrillContext;
  return { ctx, recorder, teardown, secrets };
}

afterEach(async () => {
  await service?.stop();
  service = undefined;
});

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;
const leak = (attacker: Partial<CredentialLeak['attacker']> = {}, kind: CredentialLeak['kind'] = 'api-token'): CredentialLeak => ({
  type: 'credential-leak',
  kind,
  attacker: { path: '/api/accounts/2', interval: 50, timeout: 2000, maxAttempts: 2000, maxDuration: 60_000, proveWithin: 20_000, ...attacker },
});
const revokeStep = (reissue: boolean, terminateSessions = true): Extract<RecoveryStep, { step: 'revoke-all-tokens' }> => ({
  step: 'revoke-all-tokens',
  emergency: true,
  databaseRoles: true,
  terminateSessions,
  reissue,
  serviceAccountTokens: 'all',
  rotateSigningKey: false,
  apiTokens: true,
  timeout: 60_000,
});
const legitimate = () => new ServiceHttpProbe('account-readable', service!, 'api', '/api/accounts/1', 200, 250, 5000, true, () => service!.token);
const signal = new AbortController().signal;

/** Until the attacker has sent `n` more requests than now (a loaded machine may be slow: no fixed sleep). */
async function attackerRequests(recorder: JournalRecorder, n: number): Promise<void> {
  const start = recorder.journal.attacker?.attempts.length ?? 0;
  for (const deadline = Date.now() + 30_000; (recorder.journal.attacker?.attempts.length ?? 0) < start + n; ) {
    if (Date.now() > deadline) throw new Error(`the attacker sent fewer than ${n} requests in 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('credential-leak api-token and revoke-all-tokens (real PostgreSQL, the real service, real HTTP on loopback)', () => {
  it('the leaked token is used by the attacker until revoked; T_fault is its first allowed request; the legitimate client gets a new token; the value is in no file', async () => {
    const { ctx, recorder, teardown, secrets } = await drill('test-leak-revoke');
    let handle: FaultHandle | undefined;
    try {
      handle = await injectCredentialLeak(ctx, leak());
      const attacker = () => recorder.journal.attacker!;
      const [credential] = attacker().credentials;
      // Registered as a secret the moment it existed; the journal names it by fingerprint only.
      const leaked = secrets.get(`the leaked API token ${credential!.name}`)!;
      expect(leaked).toMatch(/^tst_/);
      expect(credential!.fingerprint).toBe(credentialFingerprint(leaked));
      // The fingerprint is a prefix of what the service stores (sha256 hex of the token), nothing more.
      const [row] = await db.sql<{ token_sha256: string; revoked_at: Date | null }>('select token_sha256, revoked_at from api_tokens where name = $1', [credential!.name]);
      expect(`sha256:${row!.token_sha256.slice(0, 16)}`).toBe(credential!.fingerprint);
      const first = attacker().attempts[0]!;
      expect(first).toMatchObject({ credential: credential!.fingerprint, outcome: 'allowed', status: 200, endpoint: 'truststream-api-1' });
      expect(handle.inEffectAt).toBe(first.t);
      recorder.markAt('tFault', handle.inEffectAt);

      await attackerRequests(recorder, 3);
      expect(attacker().attempts.every((a) => a.outcome === 'allowed')).toBe(true);
      const oldDrillToken = service!.token;
      await legitimate().check(signal);

      const output = await revokeAllTokens(ctx, revokeStep(true));
      recorder.mark('tRecoveryEnd');
      expect(output).toMatchObject({ emergency: true, revoked: [`drill-test-leak-revoke`, credential!.name], reissued: 'drill-test-leak-revoke' });
      // The drill's clients moved to a new token, registered before use; the old one is refused like the leaked one.
      expect(service!.token).not.toBe(oldDrillToken);
      expect(secrets.get('the reissued API token drill-test-leak-revoke')).toBe(service!.token);
      await legitimate().check(signal);
      await expect(new ServiceHttpProbe('old', service!, 'api', '/api/accounts/1', 200, 250, 5000, true, oldDrillToken).check(signal)).rejects.toThrow(/HTTP 401 unauthorized/);

      await attackerRequests(recorder, 3);
      const after = attacker().attempts.filter((a) => a.t > recorder.journal.marks.tRecoveryEnd!.t);
      expect(after.length).toBeGreaterThanOrEqual(2);
      expect(after.every((a) => a.outcome === 'rejected' && a.status === 401)).toBe(true);
      const { verdict, measurements } = assessRevocation(recorder.redactedJournal());
      expect(verdict.status, verdict.message).toBe('passed');
      expect(measurements.timeToRevokeMs).toBeGreaterThan(0);
      expect(measurements.timeToRevokeLowerBoundMs).toBeLessThan(measurements.timeToRevokeMs!);
      expect(measurements.credentialExposureMs).toBeGreaterThanOrEqual(measurements.timeToRevokeMs!);

      await handle[Symbol.asyncDispose]();
      handle = undefined;
      const settled = attacker().attempts.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(attacker().attempts.length).toBe(settled); // stopped
      expect(await teardown.runAll()).toEqual([]);
      const active = await db.sql<{ name: string }>('select name from api_tokens where revoked_at is null');
      expect(active).toEqual([]);

      // No token (leaked, drill's, reissued) in any file of the run, in any form.
      const runDir = mkdtempSync(path.join(work, 'run-'));
      await writeRunArtifacts(runDir, recorder.journal, recorder.secrets);
      const scan = scanFiles(runDir, [...secrets.values()]);
      expect(scan.files.sort()).toEqual(['incident-report.md', 'journal.json', 'timeline.png', 'timeline.svg']);
      expect(scan.hits).toEqual([]);
      // Negative control of the scan: a journal written without the run's Redactor, with the token in it, is found.
      const slip = mkdtempSync(path.join(work, 'slip-'));
      await writeRunArtifacts(slip, { ...recorder.journal, events: [{ t: 0, wall: '', kind: 'oops', message: leaked }] });
      expect(scanFiles(slip, [leaked]).hits.map((h) => h.file)).toEqual(['journal.json']);
    } finally {
      await handle?.[Symbol.asyncDispose]();
      await teardown.runAll();
    }
  });

  it('negative control: revoking without reissue locks the legitimate client out too', async () => {
    const { ctx, recorder, teardown } = await drill('test-leak-no-reissue');
    let handle: FaultHandle | undefined;
    try {
      handle = await injectCredentialLeak(ctx, leak());
      await legitimate().check(signal);
      expect(await revokeAllTokens(ctx, revokeStep(false))).toMatchObject({ reissued: false });
      await expect(legitimate().check(signal)).rejects.toThrow(/HTTP 401 unauthorized/);
      await attackerRequests(recorder, 2);
      expect(recorder.journal.attacker!.attempts.at(-1)).toMatchObject({ outcome: 'rejected', status: 401 });
    } finally {
      await handle?.[Symbol.asyncDispose]();
      await teardown.runAll();
    }
  });

  it('a leak that cannot be proven (a path the token does not open) stops the drill (exit 3) and revokes the token', async () => {
    const { ctx, recorder, teardown } = await drill('test-leak-unproven');
    try {
      await expect(injectCredentialLeak(ctx, leak({ path: '/api/accounts/999999999', proveWithin: 1500 }))).rejects.toMatchObject({
        code: 'LEAK_NOT_PROVEN',
        kind: 'environment',
      });
      // 404 is neither allowed nor rejected: it proves nothing about the credential.
      const attempts = recorder.journal.attacker!.attempts;
      expect(attempts.every((a) => a.outcome === 'error')).toBe(true);
      // Answered ones are 404s; one in flight when the attacker was stopped has no answer at all.
      expect(attempts.filter((a) => a.status !== undefined).length).toBeGreaterThan(0);
      expect(attempts.every((a) => a.status === 404 || (a.status === undefined && a === attempts.at(-1)))).toBe(true);
      const [row] = await db.sql<{ revoked_at: Date | null }>("select revoked_at from api_tokens where name = 'leaked-test-leak-unproven'");
      expect(row!.revoked_at).toBeInstanceOf(Date);
    } finally {
      await teardown.runAll();
    }
  });

  it('postgres-password: the attacker logs in and reads; a new password plus ended sessions shut it out; the role is gone after teardown', async () => {
    const { ctx, recorder, teardown, secrets } = await drill('test-leak-pg');
    let handle: FaultHandle | undefined;
    try {
      handle = await injectCredentialLeak(ctx, leak({}, 'postgres-password'));
      const [credential] = recorder.journal.attacker!.credentials;
      const role = credential!.name;
      expect(role).toMatch(/^drill_leaked_[0-9a-f]{8}$/);
      const password = secrets.get(`the leaked password of the database role ${role}`)!;
      expect(credential!.fingerprint).toBe(credentialFingerprint(password));
      expect(recorder.journal.attacker!.attempts[0]).toMatchObject({ outcome: 'allowed', endpoint: expect.stringMatching(/^127\.0\.0\.1:\d+ \(new session\)$/) });
      // The service's grants, nothing more: it reads and writes the tables, it cannot create one.
      const [row] = await db.sql<{ can_login: boolean; superuser: boolean; reads: boolean; creates: boolean }>(
        `select rolcanlogin as can_login, rolsuper as superuser, has_table_privilege($1, 'accounts', 'select') as reads,
                has_schema_privilege($1, 'public', 'create') as creates from pg_roles where rolname = $1`,
        [role],
      );
      expect(row).toEqual({ can_login: true, superuser: false, reads: true, creates: false });
      recorder.markAt('tFault', handle.inEffectAt);
      await attackerRequests(recorder, 2);

      const output = await revokeAllTokens(ctx, revokeStep(true));
      recorder.mark('tRecoveryEnd');
      expect(output.roles).toEqual([{ role, sessionsEnded: 1 }]);
      expect(secrets.has(`the new password of the database role ${role}`)).toBe(true);
      await attackerRequests(recorder, 3);
      const attempts = recorder.journal.attacker!.attempts;
      // Its session ended (terminated: possibly while the step still ran), then its logins refused (password authentication failed).
      expect(attempts.find((a) => a.outcome !== 'allowed')).toMatchObject({ outcome: 'rejected', error: expect.stringMatching(/^session: terminating connection due to administrator command/) });
      const after = attempts.filter((a) => a.t > recorder.journal.marks.tRecoveryEnd!.t);
      expect(after.every((a) => a.outcome === 'rejected')).toBe(true);
      expect(after.at(-1)).toMatchObject({ outcome: 'rejected', error: expect.stringMatching(/^login: password authentication failed for user "drill_leaked_/) });
      expect(assessRevocation(recorder.redactedJournal()).verdict.status).toBe('passed');

      await handle[Symbol.asyncDispose]();
      handle = undefined;
      expect(await db.sql('select 1 from pg_roles where rolname = $1', [role])).toEqual([]);
      const runDir = mkdtempSync(path.join(work, 'run-'));
      await writeRunArtifacts(runDir, recorder.journal, recorder.secrets);
      expect(scanFiles(runDir, [...secrets.values()]).hits).toEqual([]);
    } finally {
      await handle?.[Symbol.asyncDispose]();
      await teardown.runAll();
    }
  });

  it('negative control: a new password without ending the sessions leaves the attacker\'s session working, and revocation fails', async () => {
    const { ctx, recorder, teardown } = await drill('test-leak-pg-kept');
    let handle: FaultHandle | undefined;
    try {
      handle = await injectCredentialLeak(ctx, leak({}, 'postgres-password'));
      recorder.markAt('tFault', handle.inEffectAt);
      const output = await revokeAllTokens(ctx, revokeStep(true, false));
      recorder.mark('tRecoveryEnd');
      expect(output.roles).toEqual([{ role: recorder.journal.attacker!.credentials[0]!.name }]);
      await attackerRequests(recorder, 3);
      const after = recorder.journal.attacker!.attempts.filter((a) => a.t > recorder.journal.marks.tRecoveryEnd!.t);
      expect(after.every((a) => a.outcome === 'allowed')).toBe(true);
      expect(assessRevocation(recorder.redactedJournal()).verdict.message).toMatch(/^postgres-password drill_leaked_[0-9a-f]{8} \(sha256:[0-9a-f]{16}\) was never revoked/);
    } finally {
      await handle?.[Symbol.asyncDispose]();
      await teardown.runAll();
    }
  });

  it('refuses a database not marked as a drill target: no role created, no token revoked', async () => {
    const { ctx, teardown } = await drill('test-leak-not-target');
    const external = { ...ctx, pg: { drillTarget: false, provider: 'external' } } as unknown as DrillContext;
    try {
      const rolesBefore = await db.sql('select rolname from pg_roles order by 1');
      await expect(injectCredentialLeak(external, leak({}, 'postgres-password'))).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET', kind: 'input' });
      expect(await db.sql('select rolname from pg_roles order by 1')).toEqual(rolesBefore);
      await expect(revokeAllTokens(external, revokeStep(true))).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET' });
      expect(await db.sql("select name from api_tokens where revoked_at is null and name = 'drill-test-leak-not-target'")).toHaveLength(1);
    } finally {
      await teardown.runAll();
    }
  });
});
