import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assessForensics } from '../../src/assertions/index.js';
import type { ForensicArtifact } from '../../src/engine/journal-types.js';
import { rehashForensics } from '../../src/recovery/forensics/hash-files.js';
import { openSealed } from '../../src/recovery/forensics/sealed-file.js';
import { STEP_PERFORMS } from '../../src/recovery/runbook-performs.js';
import { findPostgresBinaries } from '../../src/targets/postgres/binaries.js';
import { verifyEvidence } from '../../src/report/evidence.js';
import { scanFiles } from './secret-scan.js';
import { catalogueScenario, failedChecks, filesUnder, leftovers, runScenario } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-sealed-'));
// The run's sealing key goes here (outside the run directory), and is removed with the test.
const keysDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-keys-'));
process.env.DRILL_FORENSIC_SEAL_DIR = keysDir;
afterAll(() => {
  rmSync(reportsDir, { recursive: true, force: true });
  rmSync(keysDir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** pg_verifybackup (15) over a plain copy: base.tar and pg_wal.tar extracted into `dir`. Returns its exit code and output. */
function verifyExtracted(tars: Map<string, Buffer>, manifest: string, dir: string): { code: number; output: string } {
  mkdirSync(path.join(dir, 'pg_wal'), { recursive: true });
  for (const [name, bytes] of tars) {
    const file = path.join(path.dirname(dir), name);
    writeFileSync(file, bytes);
    execFileSync('tar', ['-xf', file, '-C', name === 'pg_wal.tar' ? path.join(dir, 'pg_wal') : dir]);
  }
  try {
    const output = execFileSync(findPostgresBinaries().path('pg_verifybackup'), ['-m', manifest, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (error) {
    const e = error as { status: number; stderr: string };
    return { code: e.status, output: e.stderr };
  }
}

describe('sealed forensic evidence: memory dumps of the service and a pg_basebackup (real service, real PostgreSQL, real CLI)', () => {
  it('security-breach-full-runbook preserves a sealed memory dump of each API process and a verified base backup; no secret in clear; a changed file fails the check', async () => {
    const { code, stdout, journal, runDir } = await runScenario(catalogueScenario('security-breach-full-runbook.yaml'), reportsDir);
    expect(code, stdout).toBe(0);
    expect(failedChecks(journal)).toEqual([]);
    const forensics = journal.forensics!;
    expect(forensics.gaps).toEqual([]);
    const step = journal.steps.find((s) => s.name === 'preserve-forensics')!;
    const of = (kind: string) => forensics.artifacts.filter((a) => a.kind === kind);

    // Every sealed file: on disk with the recorded size and hash, its key outside the run directory,
    // and it opens to evidence of the recorded size and hash.
    const sealed = forensics.artifacts.filter((a): a is ForensicArtifact & { sealed: NonNullable<ForensicArtifact['sealed']> } => a.sealed !== undefined);
    expect(sealed.map((a) => a.kind).sort()).toEqual(['database-basebackup', 'database-basebackup', 'memory-dump', 'memory-dump']);
    const opened = new Map<string, Buffer>();
    for (const a of sealed) {
      const file = path.join(runDir, a.path);
      const bytes = readFileSync(file);
      expect(bytes.length, a.path).toBe(a.bytes);
      expect(sha256(bytes), a.path).toBe(a.sha256);
      expect(statSync(file).mode & 0o077, a.path).toBe(0);
      expect(path.relative(runDir, a.sealed.keyFile).startsWith('..'), a.sealed.keyFile).toBe(true);
      expect(path.dirname(a.sealed.keyFile), 'DRILL_FORENSIC_SEAL_DIR reaches the drill').toBe(keysDir);
      expect(statSync(a.sealed.keyFile).mode & 0o777).toBe(0o600);
      const plain = openSealed(file, a.sealed.keyFile);
      expect(plain.length, a.path).toBe(a.sealed.plaintextBytes);
      expect(sha256(plain), a.path).toBe(a.sealed.plaintextSha256);
      opened.set(a.path, plain);
    }

    // The memory dumps: one per API process (api ×2), each of the process named, by pid, with its own command line in it.
    const dumps = of('memory-dump');
    expect(dumps.map((a) => a.details!.process).sort()).toEqual(['truststream-api-1', 'truststream-api-2']);
    const secrets = new Set<string>();
    for (const dump of dumps) {
      const { pid, process: name, startTime, truncated, dumpedBytes } = dump.details as { pid: number; process: string; startTime: string; truncated: boolean; dumpedBytes: number };
      const plain = opened.get(dump.path)!;
      expect(plain.subarray(0, 200).toString('latin1')).toMatch(new RegExp(`^drill-memory-dump v1 pid=${pid} start=${startTime} cap=268435456\\n`));
      expect(dump.path).toBe(`forensics/memory/${name}-${pid}.mem.sealed`);
      expect(dumpedBytes).toBeGreaterThan(1024 * 1024);
      expect(dumpedBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
      expect(typeof truncated).toBe('boolean');
      // argv and the environment sit on the process's stack: its own instance id, and the other process's is not there.
      expect(plain.includes(`${name}@drill-sut-`), name).toBe(true);
      const other = name.endsWith('-1') ? 'truststream-api-2@' : 'truststream-api-1@';
      expect(plain.includes(other), name).toBe(false);
      // Why it is sealed: the process's DATABASE_URL with the service role's password is in it, in clear.
      const url = /DATABASE_URL=postgres(?:ql)?:\/\/[^:@/]+:([^@\s\0]+)@/.exec(plain.toString('latin1'));
      expect(url, `${name}: no DATABASE_URL in its memory`).not.toBeNull();
      secrets.add(decodeURIComponent(url![1]!));
    }
    expect(secrets.size).toBeGreaterThan(0);
    // ... and none of it in clear in any file of the run (sealed files included).
    expect(scanFiles(runDir, [...secrets]).hits).toEqual([]);
    // Runbook coverage: the step's real output credits capture-memory-dumps.sh; the same output without the dumps does not.
    const credited = (output: Record<string, unknown>) =>
      STEP_PERFORMS['preserve-forensics'].filter((p) => p.when?.(output) ?? true).map((p) => ('command' in p ? String(p.command) : p.title));
    expect(step.status).toBe('passed');
    expect(credited(step.output!)).toEqual(expect.arrayContaining(['scripts/security/capture-memory-dumps.sh', 'scripts/security/create-forensic-snapshots.sh']));
    const withoutDumps = { ...step.output!, artifacts: (step.output!.artifacts as Array<{ kind: string }>).filter((a) => a.kind !== 'memory-dump') };
    expect(credited(withoutDumps)).not.toContain('scripts/security/capture-memory-dumps.sh');

    // The base backup: base.tar and pg_wal.tar sealed, the manifest in clear, verified when taken and again here.
    const backup = of('database-basebackup');
    expect(backup.map((a) => path.basename(a.path)).sort()).toEqual(['backup_manifest', 'base.tar.sealed', 'pg_wal.tar.sealed']);
    expect(backup.find((a) => a.sealed)!.details!.verification).toMatch(/pg_verifybackup \(PostgreSQL\) \d+.*: backup successfully verified/);
    const manifest = path.join(runDir, backup.find((a) => a.path.endsWith('backup_manifest'))!.path);
    expect(JSON.parse(readFileSync(manifest, 'utf8'))).toMatchObject({ 'PostgreSQL-Backup-Manifest-Version': 1 });
    const tars = new Map(backup.filter((a) => a.sealed).map((a) => [path.basename(a.path, '.sealed'), opened.get(a.path)!]));
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-verify-'));
    try {
      const good = verifyExtracted(tars, manifest, path.join(scratch, 'good'));
      expect(good, good.output).toMatchObject({ code: 0, output: expect.stringContaining('backup successfully verified') });
      // Negative control: one byte of one file of the copy changed, pg_verifybackup refuses it.
      const bad = path.join(scratch, 'bad');
      verifyExtracted(tars, manifest, bad);
      writeFileSync(path.join(bad, 'PG_VERSION'), '14\n');
      const refused = verifyExtracted(new Map(), manifest, bad);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toMatch(/PG_VERSION/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }

    // The incident report names, per sealed file, what it opens to and the key file (never the key).
    expect(readFileSync(path.join(runDir, 'incident-report.md'), 'utf8')).toMatch(/`forensics\/memory\/truststream-api-1-\d+\.mem\.sealed` \|.*sealed \(aes-256-gcm, key `[^`]+\.key`\): evidence \d+ bytes, sha256 `[0-9a-f]{64}`/);
    expect(leftovers(runDir)).toEqual([]);
    expect(await verifyEvidence(runDir)).toMatchObject({ ok: true });
    // A file of the run holds nothing that opens without the key: the sealed ones read as noise.
    for (const file of filesUnder(runDir)) expect(readFileSync(file).includes('DATABASE_URL=postgres'), file).toBe(false);

    // Negative controls on the real files: a changed byte of a memory dump or of the base backup fails the check.
    for (const kind of ['memory-dump', 'database-basebackup']) {
      const target = of(kind).find((a) => a.sealed)!;
      const file = path.join(runDir, target.path);
      const original = readFileSync(file);
      const changed = Buffer.from(original);
      changed[Math.floor(changed.length / 2)]! ^= 0xff;
      writeFileSync(file, changed);
      const recheck = { at: forensics.recheck!.at, files: await rehashForensics(runDir, forensics) };
      const verdict = assessForensics({ ...journal, forensics: { ...forensics, recheck } }).verdict;
      expect(verdict.status, kind).toBe('failed');
      expect(verdict.message).toContain(`${target.path} changed after it was preserved`);
      expect(() => openSealed(file, target.sealed!.keyFile), kind).toThrow();
      expect((await verifyEvidence(runDir)).ok).toBe(false);
      writeFileSync(file, original);
    }
  });
});
