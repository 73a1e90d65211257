import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PgPassFile, pgPassLine } from '../../src/targets/postgres/pgpass-file.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-pgpass-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pgpass file', () => {
  it('escapes : and \\ in fields as libpq reads them, keeping * as the wildcard', () => {
    expect(pgPassLine({ host: '127.0.0.1', port: 5432, user: 'app', password: 'a:b\\c' })).toBe('127.0.0.1:5432:*:app:a\\:b\\\\c');
    expect(pgPassLine({ host: 'db', port: '*', database: 'x', user: '*', password: 'p' })).toBe('db:*:x:*:p');
  });

  it('is written 0600 (libpq ignores one others can read), once per distinct entry', () => {
    const file = new PgPassFile(path.join(tmp, 'pgpass'), undefined);
    expect(readFileSync(file.path, 'utf8')).toBe('');
    file.add({ host: '127.0.0.1', port: 5433, user: '*', password: 'pw' });
    file.add({ host: '127.0.0.1', port: 5433, user: '*', password: 'pw' });
    file.add({ host: 'db.example', port: 5432, user: 'app', password: 'other' });
    expect(readFileSync(file.path, 'utf8')).toBe('127.0.0.1:5433:*:*:pw\ndb.example:5432:*:app:other\n');
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(file.env).toEqual({ PGPASSFILE: file.path });
  });
});
