import { existsSync, rmdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRecordedTempDir, unusedTempDirName } from '../../src/engine/recorded-temp-dir.js';
import type { Resource } from '../../src/engine/resource-ledger.js';

describe('createRecordedTempDir', () => {
  it('records the directory before it exists, then creates it (mode 0700, a drill-… name of its own)', () => {
    const seen: Array<{ resource: Resource; existed: boolean }> = [];
    const ledger = { record: (resource: Resource) => seen.push({ resource, existed: 'path' in resource && existsSync(resource.path) }) };
    const first = createRecordedTempDir(ledger, 'drill-test-recorded-');
    const second = createRecordedTempDir(ledger, 'drill-test-recorded-');
    try {
      expect(seen).toEqual([
        { resource: { kind: 'temp-dir', path: first }, existed: false },
        { resource: { kind: 'temp-dir', path: second }, existed: false },
      ]);
      expect(path.dirname(first)).toBe(os.tmpdir());
      expect(path.basename(first)).toMatch(/^drill-test-recorded-[0-9a-f]{16}$/);
      expect(first).not.toBe(second);
      expect(statSync(first).isDirectory()).toBe(true);
      expect(statSync(first).mode & 0o777).toBe(0o700);
    } finally {
      rmdirSync(first);
      rmdirSync(second);
    }
  });

  it('creates nothing when the ledger cannot record it', () => {
    let tried: string | undefined;
    const ledger = {
      record: (resource: Resource) => {
        tried = 'path' in resource ? resource.path : undefined;
        throw new Error('ENOSPC: the ledger could not be written');
      },
    };
    expect(() => createRecordedTempDir(ledger, 'drill-test-unrecorded-')).toThrow(/ENOSPC/);
    expect(tried).toMatch(/drill-test-unrecorded-/);
    expect(existsSync(tried!)).toBe(false);
  });

  it('takes a parent directory and a shorter random part (socket paths below it must stay short)', () => {
    const seen: Resource[] = [];
    const parent = createRecordedTempDir({ record: (r) => seen.push(r) }, 'drill-test-parent-');
    try {
      const child = createRecordedTempDir({ record: (r) => seen.push(r) }, 'drill-test-child-', { parent, randomBytes: 3 });
      expect(path.dirname(child)).toBe(parent);
      expect(path.basename(child)).toMatch(/^drill-test-child-[0-9a-f]{6}$/);
      expect(seen).toEqual([{ kind: 'temp-dir', path: parent }, { kind: 'temp-dir', path: child }]);
      rmdirSync(child);
    } finally {
      rmdirSync(parent);
    }
  });

  it('names a directory that does not exist without creating it (for callers with a ledger entry of their own)', () => {
    const name = unusedTempDirName('drill-test-unused-', { randomBytes: 3 });
    expect(path.basename(name)).toMatch(/^drill-test-unused-[0-9a-f]{6}$/);
    expect(existsSync(name)).toBe(false);
  });
});
