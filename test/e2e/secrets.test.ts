import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResources } from '../../src/engine/resource-ledger.js';
import { leftovers, OWN_RUN_LINE, readJournal, runCli, runDirFrom } from './helpers.js';
import { canReadEnvironOf, heldBy, label, ProcessEnvironmentWatcher, scanFiles, type SeenProcess } from './secret-scan.js';

// Issue 7 part 2: a secret given to a scenario through ${VAR} appears in no artifact of the run and
// in the environment of no process the drill starts; secrets the scenario does not reference reach
// no process at all. The drill is real (native PostgreSQL with a streaming replica, PITR restore).
const secret = `drill-e2e-secret-${randomBytes(12).toString('hex')}`;
// In the CLI's environment, never referenced by the scenario: must reach no child.
// The evidence signing key (PEM text, as CI secrets hold it): the CLI's alone.
const evidenceKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const unrelated = `unrelated-token-${randomBytes(12).toString('hex')}`;

const work = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-secrets-'));
const reportsDir = path.join(work, 'reports');
// preserve-forensics seals the memory dumps and the base backup with a run key kept here (outside the run directory).
process.env.DRILL_FORENSIC_SEAL_DIR = path.join(work, 'forensic-keys');
let server: Server;
let healthUrl = '';
const requests: string[] = [];

beforeAll(async () => {
  let n = 0;
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    n += 1;
    // Every third answer fails, so failing samples (whose error quotes the URL) reach the journal.
    const status = n % 3 === 0 ? 503 : req.url === `/health?token=${secret}` ? 200 : 403;
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

function writeScenario(): string {
  const file = path.join(work, 'secrets-everywhere.yaml');
  writeFileSync(
    file,
    `name: secrets-everywhere
title: A fat-finger DELETE undone by PITR, with a secret in every place a scenario can hold one
description: "The probe token is \${DRILL_E2E_SECRET}; it must not appear in any artifact."
runbook: "Scenario 2: Database Corruption"
severity: P2
targets:
  postgres:
    provider: native
    replicas: 1
    dataset: { accounts: 50, transfers: 1000 }
workload:
  canary: { interval: 100ms }
  probes:
    - type: sql
      name: accounts-readable
      query: "select count(*) from accounts where '\${DRILL_E2E_SECRET}' <> ''"
      interval: 250ms
    - type: sql
      name: transfers-present
      query: select 1 / count(*) from transfers
      interval: 250ms
    # Fails on every sample, and PostgreSQL quotes the secret in its error message.
    - type: sql
      name: secret-in-error
      query: "select '\${DRILL_E2E_SECRET}'::int"
      interval: 500ms
      service: false
    - type: http
      name: health-with-token
      url: "${healthUrl}?token=\${DRILL_E2E_SECRET}"
      interval: 300ms
      service: false
baseline:
  steadyState: 2s
faults:
  - type: pg-fat-finger
    statement: delete
    table: transfers
detect:
  timeout: 30s
recovery:
  - step: stop-writes
    title: "Stop writes (ticket \${DRILL_E2E_SECRET})"
  - step: pitr-restore
    target: { time: before-fault }
    backup: before-fault
    timeout: 5m
  - step: switch-workload
expect:
  rto: 15m
  rpo: 10s
  stability: 2s
  integrity: [ledger, row-counts, checksums, foreign-keys]
  writesLostAfterFault: report
timeout: 10m
`,
  );
  return file;
}

describe('the scanners find what they look for (negative controls)', () => {
  it('scanFiles finds a secret in a nested file as written, base64 or percent-encoded', () => {
    const dir = mkdtempSync(path.join(work, 'scan-'));
    mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(dir, 'plain.txt'), `x ${secret} y`);
    writeFileSync(path.join(dir, 'a', 'b', 'data.json'), JSON.stringify({ d: Buffer.from(secret).toString('base64') }));
    writeFileSync(path.join(dir, 'a', 'url.txt'), `http://h/?t=${encodeURIComponent(`${secret} `)}`);
    writeFileSync(path.join(dir, 'clean.txt'), 'nothing here');
    expect(scanFiles(dir, [secret]).hits.map((h) => h.file).sort()).toEqual(['a/b/data.json', 'a/url.txt', 'plain.txt']);
  });

  it('the watcher reads the environment of a descendant of the watched process', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & wait'], { env: { PATH: process.env.PATH, HELD: secret } });
    const watcher = new ProcessEnvironmentWatcher(() => child.pid, () => undefined);
    try {
      // Until it is seen (a loaded machine may take seconds to fork and exec), not a fixed number of tries.
      for (const deadline = Date.now() + 20_000; Date.now() < deadline && ![...watcher.seen.values()].some((p) => p.command.startsWith('sleep')); ) {
        watcher.sample();
        await new Promise((r) => setTimeout(r, 50));
      }
      const sleeper = [...watcher.seen.values()].find((p) => p.command.startsWith('sleep'));
      expect(sleeper && heldBy(sleeper, [secret, unrelated])).toEqual([label(secret)]);
    } finally {
      for (const p of watcher.seen.values()) if (p.command.startsWith('sleep')) process.kill(p.pid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});

describe('secrets (real PostgreSQL, real CLI)', () => {
  it('a ${VAR} value is in no file of the run, and no child process holds a secret in its environment', async () => {
    expect(canReadEnvironOf(process.pid)).toBe(true);
    let cli: ReturnType<typeof spawn> | undefined;
    let runDir: string | undefined;
    let pgPassword: string | undefined;
    const watcher = new ProcessEnvironmentWatcher(
      () => cli?.pid,
      () => (runDir ? path.join(runDir, 'resources.jsonl') : undefined),
    );
    watcher.start(100);
    // The per-run PostgreSQL password, read from the drill's pgpass file while it runs: it must not
    // reach an artifact or a child's environment either.
    const passwordPoll = setInterval(() => {
      if (!runDir || pgPassword) return;
      for (const r of readResources(path.join(runDir, 'resources.jsonl'))) {
        if (r.kind !== 'temp-dir') continue;
        try {
          pgPassword = readFileSync(path.join(r.path, 'pgpass'), 'utf8').split('\n')[0]!.split(':').at(-1);
        } catch {
          /* not written yet, or not a PostgreSQL workspace */
        }
      }
    }, 100);
    const result = await runCli(['run', writeScenario(), '--reports-dir', reportsDir], {
      env: { DRILL_E2E_SECRET: secret, DRILL_EVIDENCE_SIGNING_KEY: evidenceKey, DRILL_E2E_UNRELATED_TOKEN: unrelated, DEBUG: 'drill:*' },
      onOutput: (all, child) => {
        cli ??= child;
        if (!runDir && OWN_RUN_LINE.test(all)) runDir = runDirFrom(all, reportsDir);
      },
    }).finally(() => {
      watcher.stop();
      clearInterval(passwordPoll);
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    runDir ??= runDirFrom(result.stdout, reportsDir);
    expect(leftovers(runDir)).toEqual([]);

    // The secret went where the scenario put it: the HTTP server saw the token in the URL.
    expect(requests).toContain(`/health?token=${secret}`);

    // Artifacts: every file of the run directory, recursively, and the CLI's own output.
    expect(pgPassword, 'the drill keeps its PostgreSQL password in <temp>/pgpass').toMatch(/^[A-Za-z0-9_-]{32}$/);
    const secrets = [secret, evidenceKey, unrelated, pgPassword!];
    const { files, hits } = scanFiles(runDir, secrets);
    for (const expected of ['journal.json', 'incident-report.md', 'progress.jsonl', 'runner.log', 'resources.jsonl', 'evidence/journal.json', 'evidence/manifest.json']) {
      expect(files).toContain(expected);
    }
    expect(files.filter((f) => f.startsWith('allure-results/')).length).toBeGreaterThan(1);
    expect.soft(hits).toEqual([]);
    const printed = result.stdout + result.stderr;
    expect.soft(secrets.filter((s) => printed.includes(s)).map(label)).toEqual([]);

    // Child processes: what the watcher saw while the drill ran.
    const seen = [...watcher.seen.values()];
    const isDrillNode = (p: { command: string }) => p.command.includes('vitest');
    const cliPid = cli!.pid!;
    const drillNodes = seen.filter((p) => p.pid !== cliPid && isDrillNode(p));
    const others = seen.filter((p) => p.pid !== cliPid && !isDrillNode(p));
    expect(drillNodes.length, 'the vitest process that runs the drill').toBeGreaterThan(0);
    expect(others.filter((p) => /postgres/.test(p.command)).length, 'PostgreSQL processes').toBeGreaterThan(2);
    // The scan reads environments: the CLI holds all three (its user gave them); vitest's main
    // process and the drill process none (the value the scenario references came through a pipe).
    const cliSeen = seen.find((p) => p.pid === cliPid);
    expect(cliSeen && heldBy(cliSeen, secrets)).toEqual([secret, evidenceKey, unrelated].map(label));
    expect(drillNodes.length, 'vitest\'s main process and its worker, the drill process').toBeGreaterThanOrEqual(2);
    for (const p of drillNodes) expect.soft(heldBy(p, secrets), p.command).toEqual([]);
    const leaking = others.map((p) => ({ command: p.command, holds: heldBy(p, secrets) })).filter((p) => p.holds.length > 0);
    expect.soft(leaking).toEqual([]);

    // The places the secret would have been, redacted rather than merely absent.
    const journal = readJournal(runDir);
    const samples = (name: string) => journal.probes.filter((p) => p.probe === name);
    expect.soft(samples('secret-in-error').some((s) => /invalid input syntax for type integer: "\[REDACTED\]"/.test(s.error ?? ''))).toBe(true);
    expect(samples('health-with-token').some((s) => s.ok)).toBe(true);
    expect.soft(samples('health-with-token').some((s) => /HTTP 503 from .*token=\[REDACTED\]/.test(s.error ?? ''))).toBe(true);
    expect.soft(journal.scenario.definition.description).toBe('[from environment]');
    expect(readFileSync(path.join(runDir, 'runner.log'), 'utf8')).toMatch(/drill:/);
  });
});

/** The per-run PostgreSQL password, read from the drill's `<temp>/pgpass` while the drill runs. */
function pgPasswordOf(runDir: string | undefined): string | undefined {
  if (!runDir) return undefined;
  for (const r of readResources(path.join(runDir, 'resources.jsonl'))) {
    if (r.kind !== 'temp-dir') continue;
    try {
      // Empty: caught between the rewrite's truncation and its write (PgPassFile rewrites the file whole); look again.
      const password = readFileSync(path.join(r.path, 'pgpass'), 'utf8').split('\n')[0]!.split(':').at(-1);
      if (password) return password;
    } catch {
      /* not written yet, or not a PostgreSQL workspace */
    }
  }
  return undefined;
}

/** A variable of a process's environment as the watcher saw it. */
function variableOf(p: SeenProcess, name: string): string | undefined {
  return p.environ.toString('utf8').split('\0').find((v) => v.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The names of the variables of a process's environment that hold any form of `secret`. */
function variablesHolding(p: SeenProcess, secret: string): string[] {
  return p.environ
    .toString('utf8')
    .split('\0')
    .filter((v) => heldBy({ ...p, environ: Buffer.from(v) }, [secret]).length > 0)
    .map((v) => v.split('=')[0]!);
}

/**
 * The drill's API token (sut/truststream/src/domain/token-hash.ts: `tst_` + 32 random bytes in
 * base64url). It is created by the drill and held in its memory only, so no test can know its
 * value: anything shaped like a token, as written or base64-encoded, is a leak.
 */
const TOKEN_SHAPE = /tst_[A-Za-z0-9_-]{43}/;
const TOKEN_SHAPE_BASE64 = /dHN0X[A-Za-z0-9+/]{40}/;
const tokenShaped = (bytes: Buffer | string) => {
  const text = bytes.toString();
  return TOKEN_SHAPE.test(text) || TOKEN_SHAPE_BASE64.test(text);
};

function writeServiceScenario(): string {
  const file = path.join(work, 'service-secrets.yaml');
  writeFileSync(
    file,
    `name: service-secrets
title: A fat-finger DELETE undone by PITR, with the service under drill, its API canary, a reader, smoke and load
runbook: "Scenario 2: Database Corruption"
severity: P2
targets:
  postgres:
    provider: native
    dataset: { accounts: 50, transfers: 1000 }
  service:
    replicas: { api: 1, worker: 1, scheduler: 0, reader: 1 }
workload:
  canary: { interval: 100ms, via: api }
  probes:
    - { type: http, name: api-health, target: service, path: /health, interval: 250ms, timeout: 5s }
    # /api/: carries the drill's token; the delete makes it 404.
    - { type: http, name: transfer-readable, target: service, path: /api/transfers/1, interval: 250ms, timeout: 5s }
    # Through the reader, which connects with the reader role's password.
    - { type: http, name: reader-transfer, target: service, component: reader, path: /api/transfers/1, interval: 500ms, timeout: 5s, service: false }
  # /api/: autocannon sends the token in its header.
  load: { driver: autocannon, path: /api/accounts/1, requests: 100, connections: 2, duration: 5s }
baseline:
  steadyState: 2s
faults:
  - type: pg-fat-finger
    statement: delete
    table: transfers
detect:
  timeout: 30s
recovery:
  # Copies logs, sessions, a pg_dump, a sealed pg_basebackup and sealed memory dumps of the API into the run directory: scanned below too.
  - step: preserve-forensics
  - step: stop-writes
  - step: pitr-restore
    target: { time: before-fault }
    backup: before-fault
    timeout: 5m
  - step: switch-workload
    restoresService: true
verify:
  - step: smoke
  - step: load
expect:
  rto: 15m
  rpo: 10s
  stability: 2s
  integrity: [ledger, row-counts, checksums, foreign-keys]
  writesLostAfterFault: report
  # This drill is about secrets, not speed: a loaded machine must not fail it on p99.
  performance: { p99Floor: 1h }
timeout: 10m
`,
  );
  return file;
}

describe('the token-shape scan finds a token (negative control)', () => {
  it('as written, inside JSON, and base64-encoded; not in other text', async () => {
    const { newToken } = await import('../../sut/truststream/src/domain/token-hash.js');
    const token = newToken();
    expect(tokenShaped(`{"authorization":"Bearer ${token}"}`)).toBe(true);
    expect(tokenShaped(Buffer.from(token).toString('base64'))).toBe(true);
    expect(tokenShaped(`AUTH=${token}\0PATH=/bin`)).toBe(true);
    expect(tokenShaped('tst_short and the [REDACTED] token')).toBe(false);
  });
});

describe('secrets of the service under drill (real PostgreSQL, real service processes, real CLI)', () => {
  it('neither the API token nor the reader password is in any file of the run or in the environment of a process that does not need it', async () => {
    let cli: ReturnType<typeof spawn> | undefined;
    let runDir: string | undefined;
    let pgPassword: string | undefined;
    const watcher = new ProcessEnvironmentWatcher(
      () => cli?.pid,
      () => (runDir ? path.join(runDir, 'resources.jsonl') : undefined),
    );
    watcher.start(100);
    const passwordPoll = setInterval(() => (pgPassword ??= pgPasswordOf(runDir)), 100);
    const result = await runCli(['run', writeServiceScenario(), '--reports-dir', reportsDir], {
      env: { DRILL_EVIDENCE_SIGNING_KEY: evidenceKey, DEBUG: 'drill:*' },
      onOutput: (all, child) => {
        cli ??= child;
        if (!runDir && OWN_RUN_LINE.test(all)) runDir = runDirFrom(all, reportsDir);
      },
    }).finally(() => {
      watcher.stop();
      clearInterval(passwordPoll);
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    runDir ??= runDirFrom(result.stdout, reportsDir);
    expect(leftovers(runDir)).toEqual([]);

    // The secrets did their jobs: the token opened /api/ (probes, canary, smoke, load), the reader
    // role's password let the reader read.
    const journal = readJournal(runDir);
    const passed = (name: string) => journal.probes.filter((p) => p.probe === name && p.ok).length;
    expect(passed('transfer-readable')).toBeGreaterThan(0);
    expect(passed('reader-transfer')).toBeGreaterThan(0);
    expect(journal.canary.acks.length).toBeGreaterThan(5);
    expect(journal.verifications?.map((v) => `${v.name} ${v.status}`)).toEqual(['smoke passed', 'load passed']);
    expect(journal.load!.every((run) => run.responses > 0 && run.non2xx === 0)).toBe(true);

    // The reader's password, from the environment of the reader process (where it belongs).
    const seen = [...watcher.seen.values()];
    const service = seen.filter((p) => /truststream\S* (api|reader|worker|scheduler) --instance/.test(p.command));
    const readers = service.filter((p) => / reader --instance/.test(p.command));
    expect(readers.length, 'reader processes').toBeGreaterThan(0);
    const readerUrl = variableOf(readers[0]!, 'READER_DATABASE_URL');
    const readerPassword = readerUrl ? decodeURIComponent(new URL(readerUrl).password) : undefined;
    expect(readerPassword).toMatch(/^[0-9a-f]{48}$/);
    expect(pgPassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const secrets = [readerPassword!, pgPassword!, evidenceKey];

    // Artifacts: every file of the run directory (the service's own logs included) and the CLI's output.
    const { files, hits } = scanFiles(runDir, secrets);
    expect(files.filter((f) => f.startsWith('service-logs/')).length).toBeGreaterThanOrEqual(6);
    expect(files.filter((f) => f.startsWith('forensics/')).length).toBeGreaterThanOrEqual(7);
    expect(journal.forensics!.gaps).toEqual([]);
    expect.soft(hits).toEqual([]);
    expect.soft(files.filter((f) => tokenShaped(readFileSync(path.join(runDir!, f))))).toEqual([]);
    const printed = result.stdout + result.stderr;
    expect.soft(secrets.filter((s) => printed.includes(s)).map(label)).toEqual([]);
    expect.soft(tokenShaped(printed)).toBe(false);

    // Environments: the token in none; the service processes hold the passwords only in the
    // connection strings they connect with (DATABASE_URL; the reader's READER_DATABASE_URL);
    // nothing else the drill started holds either.
    expect(new Set(service.map((p) => / (api|reader|worker) --instance/.exec(p.command)?.[1])), 'service processes of every mode').toEqual(new Set(['api', 'reader', 'worker']));
    expect(seen.filter((p) => /postgres/.test(p.command)).length, 'PostgreSQL processes').toBeGreaterThan(2);
    expect.soft(seen.filter((p) => tokenShaped(p.environ)).map((p) => p.command)).toEqual([]);
    for (const p of service) {
      expect.soft(variablesHolding(p, pgPassword!), p.command).toEqual(['DATABASE_URL']);
      expect.soft(variablesHolding(p, readerPassword!), p.command).toEqual(readers.includes(p) ? ['READER_DATABASE_URL'] : []);
    }
    const cliPid = cli!.pid!;
    const others = seen.filter((p) => p.pid !== cliPid && !service.includes(p));
    const leaking = others.map((p) => ({ command: p.command, holds: heldBy(p, [readerPassword!, pgPassword!]) })).filter((p) => p.holds.length > 0);
    expect.soft(leaking).toEqual([]);
  });
});
