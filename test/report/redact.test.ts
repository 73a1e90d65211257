import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from '../../src/report/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['postgres://drill:hunter2@db:5432/app', `postgres://drill:${REDACTED}@db:5432/app`],
    ['postgresql://u:p%40ss@10.0.0.1/db?sslmode=require', `postgresql://u:${REDACTED}@10.0.0.1/db?sslmode=require`],
    ['url: "https://admin:top@secret@example.com/x"', `url: "https://admin:${REDACTED}@example.com/x"`],
    ['host=db port=5432 user=drill password=hunter2 dbname=app', `host=db port=5432 user=drill password=${REDACTED} dbname=app`],
    ["host=db password='with space\\'s' user=x", `host=db password=${REDACTED} user=x`],
    ['PGPASSWORD=hunter2 psql', `PGPASSWORD=${REDACTED} psql`],
    ['GET /x?user=a&password=hunter2&y=1', `GET /x?user=a&password=${REDACTED}&y=1`],
    ['{"password": "hunter2", "user": "a"}', `{"password": "${REDACTED}", "user": "a"}`],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', `Authorization: Bearer ${REDACTED}`],
    ['authorization: Basic ZHJpbGw6aHVudGVyMg==', `authorization: Basic ${REDACTED}`],
    ['curl -H "Bearer abcdefghijklmnopqrstuvwxyz012345"', `curl -H "Bearer ${REDACTED}"`],
    ['key AKIAIOSFODNN7EXAMPLE in env', `key ${REDACTED} in env`],
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `aws_secret_access_key = ${REDACTED}`],
  ])('redacts %s', (input, output) => {
    expect(redactSecrets(input)).toBe(output);
  });

  it.each([
    'postgres://drill@db:5432/app',
    'http://127.0.0.1:8080/health',
    'https://host:443/path?mail=a@b.c',
    'Bearer tokens are revoked; basic checks passed; token expired',
    'the password rotation step passed',
    'RTO 32s within 15m (AKIA is not a key by itself)',
  ])('leaves %s alone', (input) => {
    expect(redactSecrets(input)).toBe(input);
  });

  it('is idempotent', () => {
    const text = 'postgres://u:pw@h/db password=x Authorization: Bearer abcdefghijklmnopqrstuv AKIAIOSFODNN7EXAMPLE';
    const once = redactSecrets(text);
    expect(redactSecrets(once)).toBe(once);
    expect(once).not.toMatch(/pw@|password=x|abcdefghij|AKIAIOSFODNN7EXAMPLE/);
  });
});
