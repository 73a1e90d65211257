import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redactFilesUnder } from '../../src/report/redact-files.js';
import { Redactor } from '../../src/report/redactor.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-redact-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('redactFilesUnder: files other programs wrote into the run directory', () => {
  it('replaces registered values and pattern matches in every file below, and leaves clean files byte for byte', () => {
    const token = 'tst_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
    const redactor = new Redactor();
    redactor.register(token, 'a test token');
    mkdirSync(path.join(dir, 'launch-1'), { recursive: true });
    const leaky = path.join(dir, 'launch-1', 'truststream-api-1.log');
    const url = path.join(dir, 'truststream-reader-1.log');
    const clean = path.join(dir, 'launch-1', 'truststream-worker-1.log');
    writeFileSync(leaky, `{"level":"INFO","msg":"request","auth":"${token}"}\n`);
    writeFileSync(url, '{"level":"ERROR","msg":"could not connect to postgres://truststream_reader:s3cret-pass@127.0.0.1:5432/drill"}\n');
    writeFileSync(clean, '{"level":"INFO","msg":"queue items settled"}\n');
    const cleanBefore = statSync(clean).mtimeMs;

    expect(redactFilesUnder(dir, redactor).sort()).toEqual([leaky, url].sort());
    expect(readFileSync(leaky, 'utf8')).toBe('{"level":"INFO","msg":"request","auth":"[REDACTED]"}\n');
    expect(readFileSync(url, 'utf8')).not.toContain('s3cret-pass');
    expect(readFileSync(clean, 'utf8')).toBe('{"level":"INFO","msg":"queue items settled"}\n');
    expect(statSync(clean).mtimeMs).toBe(cleanBefore);
    // Idempotent: nothing left to rewrite.
    expect(redactFilesUnder(dir, redactor)).toEqual([]);
  });

  it('a directory that does not exist (no service log was kept) is nothing to do', () => {
    expect(redactFilesUnder(path.join(dir, 'absent'), new Redactor())).toEqual([]);
  });
});
