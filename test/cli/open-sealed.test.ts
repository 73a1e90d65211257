import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { openSealedCommand } from '../../src/cli/open-sealed.js';
import { sealInto, sealingKeyFile } from '../../src/recovery/forensics/sealed-file.js';
import { runCli } from '../e2e/helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const EVIDENCE = Buffer.from('memory of truststream-api-1: DATABASE_URL=postgres://app:s3cr3t-in-memory@127.0.0.1/app\n');

/** A run dir as preserve-forensics leaves it: a sealed file under forensics/ and its journal record. */
describe('drill open-sealed', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'drill-test-open-sealed-'));
  const runDir = path.join(work, 'reports', 'run-42');
  const keysDir = path.join(work, 'keys');
  let keyFile: string;
  let record: Record<string, unknown>;
  const exitOf = (fn: () => number): number => {
    try {
      return fn();
    } catch (error) {
      return exitCodeForError(error);
    }
  };
  const writeJournal = (artifacts: unknown[]) => writeFileSync(path.join(runDir, 'journal.json'), JSON.stringify({ runId: 'run-42', forensics: { artifacts } }));

  beforeAll(async () => {
    mkdirSync(path.join(runDir, 'forensics'), { recursive: true });
    mkdirSync(keysDir, { mode: 0o700 });
    const key = sealingKeyFile('run-42', keysDir);
    keyFile = key.file;
    const target = path.join(runDir, 'forensics', 'api-1.mem.sealed');
    const sealed = await sealInto(target, key.key, (async function* () {
      yield EVIDENCE;
    })());
    record = {
      kind: 'memory-dump',
      path: 'forensics/api-1.mem.sealed',
      bytes: sealed.bytes,
      sha256: sealed.sha256,
      how: 'test',
      sealed: { cipher: 'aes-256-gcm', keyFile, plaintextBytes: sealed.plaintextBytes, plaintextSha256: sealed.plaintextSha256 },
    };
    writeFileSync(path.join(runDir, 'forensics', 'plain.log'), 'redacted log\n');
    writeJournal([record, { kind: 'service-logs', path: 'forensics/plain.log', bytes: 13, sha256: 'x', how: 'test' }]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('opens the file with the key the run recorded, checks both hashes, writes it 0600 (through the CLI)', async () => {
    const out = path.join(work, 'api-1.mem');
    const result = await runCli(['open-sealed', runDir, 'forensics/api-1.mem.sealed', '--out', out]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(EVIDENCE);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(result.stdout).toContain(`sha256 ${sha256(EVIDENCE)} as run run-42 recorded`);
    // The evidence is a secret: the terminal never shows it.
    expect(result.stdout + result.stderr).not.toContain('s3cr3t-in-memory');
    rmSync(out);
  });

  it('negative controls: a changed byte, the wrong key, a record that does not match are exit 1, nothing written', () => {
    const sealedFile = path.join(runDir, 'forensics', 'api-1.mem.sealed');
    const original = readFileSync(sealedFile);
    const out = path.join(work, 'never');
    try {
      // A flipped byte with the journal's hash updated too (someone covering their tracks): GCM refuses it.
      const flipped = Buffer.from(original);
      flipped[flipped.length - 20]! ^= 1;
      writeFileSync(sealedFile, flipped);
      writeJournal([{ ...record, sha256: sha256(flipped) }]);
      expect(exitOf(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out }))).toBe(1);
      // Flipped, journal as recorded: the sealed hash already differs.
      writeJournal([record]);
      expect(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out })).toThrow(/does not match the run's record .*changed after the run/);
      writeFileSync(sealedFile, original);
      // Another run's key.
      const other = sealingKeyFile('run-other', keysDir).file;
      expect(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out, key: other })).toThrow(/does not open with/);
      // The evidence's recorded hash differs from what opens.
      writeJournal([{ ...record, sealed: { ...(record.sealed as object), plaintextSha256: '0'.repeat(64) } }]);
      expect(exitOf(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out }))).toBe(1);
      expect(existsSync(out)).toBe(false);
      // And as recorded, it opens (the controls failed for their reason only).
      writeJournal([record]);
      expect(openSealedCommand(runDir, 'api-1.mem.sealed', { out })).toBe(0);
      rmSync(out);
    } finally {
      writeFileSync(sealedFile, original);
      writeJournal([record]);
    }
  });

  it('bad input is exit 2 with what to do: no --out, --out inside the run dir or existing, unknown or unsealed file, no key', () => {
    expect(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out: '' })).toThrow(/give --out/);
    expect(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out: path.join(runDir, 'forensics', 'x') })).toThrow(/inside the run directory/);
    const existing = path.join(work, 'existing');
    writeFileSync(existing, 'keep me');
    expect(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out: existing })).toThrow(/exists: choose a new file/);
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    expect(() => openSealedCommand(runDir, 'nope.sealed', { out: path.join(work, 'o') })).toThrow(/recorded no forensic file nope\.sealed; its sealed files: forensics\/api-1\.mem\.sealed/);
    writeJournal([record, { kind: 'service-logs', path: 'forensics/plain.log', bytes: 13, sha256: 'x', how: 'test' }]);
    expect(() => openSealedCommand(runDir, 'plain.log', { out: path.join(work, 'o') })).toThrow(/is not sealed/);
    expect(() => openSealedCommand(runDir, 'api-1.mem.sealed', { out: path.join(work, 'o'), key: path.join(work, 'no-such.key') })).toThrow(/give the key file of run run-42 with --key/);
    expect(() => openSealedCommand(work, 'api-1.mem.sealed', { out: path.join(work, 'o') })).toThrow(/has no journal\.json/);
    for (const bad of [() => openSealedCommand(runDir, 'nope', { out: path.join(work, 'o') }), () => openSealedCommand(runDir, 'api-1.mem.sealed', { out: existing })]) {
      expect(exitOf(bad)).toBe(2);
    }
    expect(existsSync(path.join(work, 'o'))).toBe(false);
  });
});
