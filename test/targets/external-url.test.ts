import { describe, expect, it } from 'vitest';
import { describeConnection, parseExternalUrl, scrubPassword } from '../../src/targets/postgres/external-url.js';

const SECRET = 'S3cret-pa55word';

describe('external provider URL (pure)', () => {
  it('reads user, password, host, port and database, with libpq-like defaults', () => {
    expect(parseExternalUrl(`postgres://app:${SECRET}@db.example:6432/shop`)).toEqual({
      host: 'db.example', port: 6432, user: 'app', password: SECRET, database: 'shop',
    });
    expect(parseExternalUrl('postgresql://db.example')).toEqual({ host: 'db.example', port: 5432, user: 'postgres', database: 'postgres' });
    expect(parseExternalUrl('postgres://a%40b:p%2Fw%40@[::1]:5433/d').host).toBe('::1');
    expect(parseExternalUrl('postgres://a%40b:p%2Fw%40@[::1]:5433/d')).toMatchObject({ user: 'a@b', password: 'p/w@' });
  });

  it('refuses a missing, malformed or parameterised URL without quoting the password', () => {
    expect(() => parseExternalUrl(undefined)).toThrow(expect.objectContaining({ code: 'EXTERNAL_URL_MISSING', kind: 'input' }));
    for (const url of [`postgres://u:${SECRET}@host:notaport/db`, `mysql://u:${SECRET}@host/db`, `postgres://u:${SECRET}@host/db?sslmode=require`]) {
      let message = '';
      try {
        parseExternalUrl(url);
      } catch (error) {
        expect(error).toMatchObject({ kind: 'input' });
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(SECRET);
    }
  });

  it('describes a connection without its password and scrubs it from any text', () => {
    const c = parseExternalUrl(`postgres://app:${SECRET}@db.example/shop`);
    expect(describeConnection(c)).toBe('postgres://app@db.example:5432/shop');
    expect(scrubPassword(`failed: PGPASSWORD=${SECRET} and ${SECRET} and postgres://app:${SECRET}@db`, c)).not.toContain(SECRET);
  });
});
