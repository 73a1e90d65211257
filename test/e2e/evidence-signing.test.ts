/**
 * Evidence signing through the real CLI: `drill keygen`, `drill run` with
 * DRILL_EVIDENCE_SIGNING_KEY, `drill verify-evidence --public-key`. The forgery matrix against
 * every kind of bundle is in test/report/evidence.test.ts; here, the exit codes and messages an
 * auditor and a CI job rely on, and that the private key reaches no child process and no file.
 */
import { type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEvidence } from '../../src/report/evidence.js';
import { signingKeyFromEnv } from '../../src/report/evidence-keys.js';
import { ROOT, runCli, runDirFrom } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-evidence-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const signer = path.join(tmp, 'keys', 'signer');
const other = path.join(tmp, 'keys', 'other');
/** The base64 body of the signer's PEM: the secret itself, whatever its encoding around it. */
let privateBody: string;

beforeAll(async () => {
  mkdirSync(path.join(tmp, 'keys'));
  for (const prefix of [signer, other]) {
    const result = await runCli(['keygen', '--out', prefix]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  }
  privateBody = readFileSync(`${signer}.key`, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
});

/** A recorded run dir (fixture), sealed by the library as `drill run` seals it. */
async function sealedRun(name: string, signed: boolean): Promise<string> {
  const dir = path.join(tmp, 'reports', name);
  cpSync(path.join(ROOT, 'test/fixtures/run-dir'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'runner.log'), 'vitest output\n');
  const signingKey = signed ? await signingKeyFromEnv({ signingKey: `${signer}.key`, legacyHmacKeySet: false }) : undefined;
  await writeEvidence(dir, signingKey ? { signingKey } : {});
  return dir;
}

/** Edits journal.json and recomputes its manifest entry and the chain, as a forger would. */
async function editAndRechain(dir: string): Promise<void> {
  const { buildChain, headerLine } = await import('../../src/report/evidence-manifest.js');
  appendFileSync(path.join(dir, 'journal.json'), ' ');
  const file = path.join(dir, 'evidence', 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  const bytes = readFileSync(path.join(dir, 'journal.json'));
  const entry = manifest.entries.find((e: { path: string }) => e.path === 'journal.json');
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  entry.size = bytes.length;
  const { entries, root } = buildChain(headerLine(manifest), manifest.entries);
  writeFileSync(file, `${JSON.stringify({ ...manifest, entries, root }, null, 2)}\n`);
}

describe('drill keygen', () => {
  it('writes a 0600 private key and a public key, prints neither key, never overwrites', async () => {
    expect(statSync(`${signer}.key`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${signer}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const before = readFileSync(`${signer}.key`, 'utf8');
    const again = await runCli(['keygen', '--out', signer]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/signer\.key exists and is not overwritten/);
    expect(readFileSync(`${signer}.key`, 'utf8')).toBe(before);
    expect(again.stdout + again.stderr).not.toContain(privateBody);
  });
});

describe('drill verify-evidence', () => {
  it("a signed bundle: 0 with the signer's public key, 1 without one or with another key, 2 given a private key", async () => {
    const dir = await sealedRun('signed', true);
    const [good, noKey, wrong, privateGiven] = await Promise.all([
      runCli(['verify-evidence', dir, '--public-key', `${signer}.pub`]),
      runCli(['verify-evidence', dir]),
      runCli(['verify-evidence', dir, '--public-key', `${other}.pub`]),
      runCli(['verify-evidence', dir, '--public-key', `${signer}.key`]),
    ]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^evidence intact and signed: \d+ files, chain root [0-9a-f]{64}\n {2}signature verified: Ed25519 by sha256:[0-9a-f]{64}/);

    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/NOT VERIFIABLE: signed by sha256:[0-9a-f]{64} \(Ed25519\), but no public key was given: pass --public-key/);
    expect(noKey.stdout).not.toMatch(/intact/);

    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/TAMPERED: signer mismatch/);
    expect(wrong.stdout).toMatch(/TAMPERED: bad signature/);

    expect(privateGiven.code).toBe(2);
    expect(privateGiven.stderr).toMatch(/is a private key: pass the public key/);
    expect(privateGiven.stdout + privateGiven.stderr).not.toContain(privateBody);
  });

  it('forgeries: edit + re-chain fails a signed bundle; an unsigned one passes only as "origin not proven" and fails given a key', async () => {
    const signed = await sealedRun('signed-forged', true);
    const unsigned = await sealedRun('unsigned-forged', false);
    await editAndRechain(signed);
    await editAndRechain(unsigned);
    const [forgedSigned, noKey, withKey] = await Promise.all([
      runCli(['verify-evidence', signed, '--public-key', `${signer}.pub`]),
      runCli(['verify-evidence', unsigned]),
      runCli(['verify-evidence', unsigned, '--public-key', `${signer}.pub`]),
    ]);
    expect(forgedSigned.code).toBe(1);
    expect(forgedSigned.stdout).toMatch(/TAMPERED: bad signature/);
    expect(noKey.code, noKey.stdout).toBe(0);
    expect(noKey.stdout).toMatch(/^evidence chain intact: .*\n {2}NOT SIGNED: origin not proven/);
    expect(withKey.code).toBe(1);
    expect(withKey.stdout).toMatch(/NOT VERIFIABLE: the bundle is not signed/);
  });

  it('a file added at the run root fails signed and unsigned bundles', async () => {
    const signed = await sealedRun('signed-added', true);
    const unsigned = await sealedRun('unsigned-added', false);
    for (const dir of [signed, unsigned]) writeFileSync(path.join(dir, 'approval.txt'), 'approved by the auditor\n');
    const results = await Promise.all([
      runCli(['verify-evidence', signed, '--public-key', `${signer}.pub`]),
      runCli(['verify-evidence', unsigned]),
    ]);
    for (const r of results) {
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toMatch(/TAMPERED: unlisted file: approval\.txt/);
    }
  });
});

/** Pid → parent pid of every process, from /proc. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm (field 2) may hold spaces and parens: the fields after it start after the last ')'.
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  return parents;
}

function descendantsOf(pid: number, parents: Map<number, number>): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, parent] of parents) {
      if (parent === p) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Processes whose command line names `dir` (daemons of the run, reparented away from the CLI). */
function processesNaming(dir: string, pids: Iterable<number>): number[] {
  return [...pids].filter((pid) => (readProc(pid, 'cmdline') ?? '').split('\0').some((arg) => arg.startsWith(dir)));
}

function readProc(pid: number, file: 'environ' | 'cmdline'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

describe('drill run with DRILL_EVIDENCE_SIGNING_KEY (real PostgreSQL)', () => {
  it('signs the evidence, and the key reaches no child process and no file of the run', async () => {
    const reportsDir = path.join(tmp, 'run-reports');
    const pem = readFileSync(`${signer}.key`, 'utf8');
    const seen = new Map<number, string>();
    const leaks = new Set<string>();
    let cliEnvironHasKey = false;
    let timer: NodeJS.Timeout | undefined;
    // The drill's work directory is under this TMPDIR, so the PostgreSQL server it starts names it
    // in its `-D`: pg_ctl daemonizes the server (its parent becomes init), and pg_ctl itself may
    // live less than one sampling period, so descent from the CLI alone can miss every PostgreSQL.
    // Short, in /tmp itself: PostgreSQL's socket path under it must fit 107 bytes. Removed below.
    const runTmp = mkdtempSync('/tmp/drill-sig-');
    chmodSync(runTmp, 0o711); // mkdtemp's 0700 would keep the postgres user out of its data directory
    const sample = (cli: ChildProcess) => {
      const parents = parentPids(); // one read of /proc per sample
      for (const pid of new Set([...descendantsOf(cli.pid!, parents), ...processesNaming(runTmp, parents.keys())])) {
        const environ = readProc(pid, 'environ');
        if (environ === undefined) continue;
        seen.set(pid, (readProc(pid, 'cmdline') ?? '').split('\0').join(' '));
        if (environ.includes('DRILL_EVIDENCE_SIGNING_KEY') || environ.includes(privateBody)) leaks.add(`${pid} ${seen.get(pid)}`);
      }
    };
    // A drill that stays in its steady state until the test has sampled its PostgreSQL server, then
    // is interrupted: a drill left to its own timeout may end before its server starts (as on a
    // loaded machine), and the positive control below would fail for want of something to sample.
    const scenarioFile = path.join(tmp, 'signed-run.yaml');
    writeFileSync(
      scenarioFile,
      [
        'name: signed-run',
        'title: A drill interrupted once its PostgreSQL server has been sampled',
        'runbook: "Scenario 2: Database Corruption"',
        'severity: P3',
        'targets:',
        '  postgres: { provider: native, dataset: { accounts: 10, transfers: 100 } }',
        'workload:',
        '  probes:',
        '    - { type: sql, name: alive, query: "select 1" }',
        'baseline: { steadyState: 5m }',
        'faults:',
        '  - { type: pg-page-corruption, table: transfers }',
        'recovery:',
        '  - step: stop-writes',
        'timeout: 10m',
        '',
      ].join('\n'),
    );
    let interrupted = false;
    const serverSampled = () => [...seen.values()].some((c) => /\/postgres -D /.test(c) && c.includes(runTmp));
    let leftInTmp: string[];
    let result: Awaited<ReturnType<typeof runCli>>;
    try {
      result = await runCli(['run', scenarioFile, '--reports-dir', reportsDir], {
        env: { DRILL_EVIDENCE_SIGNING_KEY: pem, TMPDIR: runTmp },
        onOutput: (_all, cli) => {
          if (timer) return;
          // Negative control for the sampler: the CLI itself was started with the key.
          cliEnvironHasKey = (readProc(cli.pid!, 'environ') ?? '').includes(privateBody);
          sample(cli);
          timer = setInterval(() => {
            sample(cli);
            if (!interrupted && serverSampled()) {
              interrupted = true;
              cli.kill('SIGINT');
            }
          }, 100);
        },
      });
      // tsx (which loads the CLI's TypeScript) keeps its compile cache in TMPDIR on purpose.
      leftInTmp = readdirSync(runTmp).filter((name) => !name.startsWith('tsx-'));
    } finally {
      clearInterval(timer);
      rmSync(runTmp, { recursive: true, force: true });
    }
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(leftInTmp, 'the interrupted drill left its work directory').toEqual([]);
    expect(cliEnvironHasKey).toBe(true);
    const commands = [...seen.values()];
    // Positive controls: the drill's vitest and the PostgreSQL server it started were sampled.
    expect(commands.some((c) => c.includes('vitest.drill.config.ts')), commands.join('\n')).toBe(true);
    expect(serverSampled(), commands.join('\n')).toBe(true);
    expect([...leaks]).toEqual([]);

    expect(result.stdout).toMatch(/evidence: signed \(Ed25519, sha256:[0-9a-f]{64}\)/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    expect(existsSync(path.join(runDir, 'evidence', 'manifest.sig'))).toBe(true);
    const verified = await runCli(['verify-evidence', runDir, '--public-key', `${signer}.pub`]);
    expect(verified.code, verified.stdout).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(runDir, 'evidence', 'manifest.json'), 'utf8')) as { entries: Array<{ path: string }> };
    expect(manifest.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['runner.log', 'progress.jsonl', 'resources.jsonl', 'journal.json']));

    // The secret in any encoding: the PEM body, the raw 32-byte seed, its base64url (JWK `d`).
    const d = createPrivateKey(pem).export({ format: 'jwk' }).d!;
    const seed = Buffer.from(d, 'base64url');
    for (const entry of manifest.entries) {
      const bytes = readFileSync(path.join(runDir, entry.path));
      for (const needle of [Buffer.from(privateBody), seed, Buffer.from(d), Buffer.from(seed.toString('hex')), Buffer.from(seed.toString('base64'))]) {
        expect(bytes.includes(needle), `${entry.path} holds the private key`).toBe(false);
      }
    }
    expect(result.stdout + result.stderr).not.toContain(privateBody);
  });

  it('refuses a bad key or the old HMAC variable before anything starts (exit 2), never echoing the value', async () => {
    const reportsDir = path.join(tmp, 'refused-reports');
    const scenario = path.join(ROOT, 'drills/scenarios/db-corruption-pitr.yaml');
    const secret = 'pasted-hmac-secret-9f8e7d6c5b4a';
    const [notAKey, hmac] = await Promise.all([
      runCli(['run', scenario, '--reports-dir', reportsDir], { env: { DRILL_EVIDENCE_SIGNING_KEY: secret } }),
      runCli(['run', scenario, '--reports-dir', reportsDir], { env: { DRILL_EVIDENCE_KEY: secret } }),
    ]);
    expect(notAKey.code, notAKey.stdout + notAKey.stderr).toBe(2);
    expect(notAKey.stderr).toMatch(/DRILL_EVIDENCE_SIGNING_KEY is neither PEM text .* nor the path of an existing file/);
    expect(hmac.code, hmac.stdout + hmac.stderr).toBe(2);
    expect(hmac.stderr).toMatch(/DRILL_EVIDENCE_KEY \(an HMAC key\) is no longer used/);
    for (const r of [notAKey, hmac]) expect(r.stdout + r.stderr).not.toContain(secret);
    expect(existsSync(reportsDir)).toBe(false);
  });
});
