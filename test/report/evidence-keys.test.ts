import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateEvidenceKeyPair } from '../../src/report/evidence-keygen.js';
import {
  fingerprintOf,
  readVerifyingKey,
  signingKeyFromEnv,
  takeEvidenceKeyEnv,
  withoutEvidenceKeys,
} from '../../src/report/evidence-keys.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drill-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fromEnv = (signingKey: string | undefined, legacyHmacKeySet = false) =>
  signingKeyFromEnv({ ...(signingKey === undefined ? {} : { signingKey }), legacyHmacKeySet });

describe('generateEvidenceKeyPair (drill keygen)', () => {
  it('writes a private key only its owner can read and a public key, both loadable', async () => {
    const pair = await generateEvidenceKeyPair(join(dir, 'ci'));
    expect(pair).toMatchObject({ privateKeyFile: join(dir, 'ci.key'), publicKeyFile: join(dir, 'ci.pub'), fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect((await stat(pair.privateKeyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(pair.privateKeyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await readFile(pair.publicKeyFile, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const signing = await fromEnv(pair.privateKeyFile);
    const verifying = await readVerifyingKey(pair.publicKeyFile);
    expect(signing?.fingerprint).toBe(pair.fingerprint);
    expect(verifying.fingerprint).toBe(pair.fingerprint);
  });

  it('never overwrites a key, and each pair is new', async () => {
    const first = await generateEvidenceKeyPair(join(dir, 'ci'));
    const before = await readFile(first.privateKeyFile, 'utf8');
    await expect(generateEvidenceKeyPair(join(dir, 'ci'))).rejects.toMatchObject({ code: 'KEYGEN_FILE_EXISTS', kind: 'input' });
    expect(await readFile(first.privateKeyFile, 'utf8')).toBe(before);
    await writeFile(join(dir, 'other.pub'), 'someone else\'s');
    await expect(generateEvidenceKeyPair(join(dir, 'other'))).rejects.toMatchObject({ code: 'KEYGEN_FILE_EXISTS' });
    await expect(stat(join(dir, 'other.key'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await generateEvidenceKeyPair(join(dir, 'second'))).fingerprint).not.toBe(first.fingerprint);
  });
});

describe('signing key from DRILL_EVIDENCE_SIGNING_KEY', () => {
  it('takes a path or the PEM text itself, to the same key', async () => {
    const pair = await generateEvidenceKeyPair(join(dir, 'k'));
    const byPath = await fromEnv(pair.privateKeyFile);
    const byText = await fromEnv(await readFile(pair.privateKeyFile, 'utf8'));
    expect(byPath?.fingerprint).toBe(pair.fingerprint);
    expect(byText?.fingerprint).toBe(pair.fingerprint);
    expect(await fromEnv(undefined)).toBeUndefined();
  });

  it('refuses the HMAC variable of format 1, saying what to do instead', async () => {
    await expect(fromEnv(undefined, true)).rejects.toMatchObject({ code: 'EVIDENCE_HMAC_REMOVED', kind: 'input', message: expect.stringContaining('npx drill keygen') });
  });

  it('a value that is neither PEM nor an existing file is refused without echoing it', async () => {
    const secret = 'hmac-secret-pasted-by-mistake-0123456789';
    const error = await fromEnv(secret).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'EVIDENCE_SIGNING_KEY_UNREADABLE', kind: 'input' });
    expect((error as Error).message).not.toContain(secret);
    const long = 'x'.repeat(5000); // ENAMETOOLONG, not ENOENT: still not echoed
    expect(((await fromEnv(long).catch((e: Error) => e)) as Error).message).not.toContain(long.slice(0, 300));
  });

  it('names an existing but unreadable path (a directory)', async () => {
    await expect(fromEnv(dir)).rejects.toMatchObject({ code: 'EVIDENCE_SIGNING_KEY_UNREADABLE', message: expect.stringContaining(dir) });
  });

  it('refuses non-Ed25519, encrypted, public and broken keys, never showing PEM content', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(fromEnv(rsaPem)).rejects.toMatchObject({ code: 'EVIDENCE_SIGNING_KEY_NOT_ED25519', message: expect.stringContaining('rsa') });

    const ed = generateKeyPairSync('ed25519');
    const encrypted = ed.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    await expect(fromEnv(encrypted)).rejects.toMatchObject({ code: 'EVIDENCE_SIGNING_KEY_ENCRYPTED' });

    const publicPem = ed.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await expect(fromEnv(publicPem)).rejects.toMatchObject({ code: 'EVIDENCE_SIGNING_KEY_INVALID' });

    const body = 'MC4CAQAwBQYDK2VwBCIEIBROKENBROKENBROKENBROKENBROKENBROKENBROKEN';
    const broken = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
    const error = (await fromEnv(broken).catch((e: Error) => e)) as Error & { cause?: unknown };
    expect(error).toMatchObject({ code: 'EVIDENCE_SIGNING_KEY_INVALID' });
    expect(error.message).not.toContain(body);
    expect(error.cause).toBeUndefined();
  });
});

describe('public key for verify-evidence --public-key', () => {
  it('refuses a private key, a missing file, garbage and a non-Ed25519 key', async () => {
    const pair = await generateEvidenceKeyPair(join(dir, 'k'));
    await expect(readVerifyingKey(pair.privateKeyFile)).rejects.toMatchObject({ code: 'EVIDENCE_PUBLIC_KEY_IS_PRIVATE', kind: 'input' });
    await expect(readVerifyingKey(join(dir, 'nope.pub'))).rejects.toMatchObject({ code: 'EVIDENCE_PUBLIC_KEY_UNREADABLE', message: expect.stringContaining('nope.pub') });
    await writeFile(join(dir, 'garbage.pub'), 'hello');
    await expect(readVerifyingKey(join(dir, 'garbage.pub'))).rejects.toMatchObject({ code: 'EVIDENCE_PUBLIC_KEY_INVALID' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    await expect(readVerifyingKey(join(dir, 'rsa.pub'))).rejects.toMatchObject({ code: 'EVIDENCE_PUBLIC_KEY_NOT_ED25519' });
  });

  it('fingerprints differ per key and are stable per key', () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    expect(fingerprintOf(a.publicKey)).toBe(fingerprintOf(a.publicKey));
    expect(fingerprintOf(a.publicKey)).not.toBe(fingerprintOf(b.publicKey));
  });
});

describe('the key variables never reach a child environment', () => {
  it('takeEvidenceKeyEnv reads both variables and removes them from the environment', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', DRILL_EVIDENCE_SIGNING_KEY: '/keys/ci.key', DRILL_EVIDENCE_KEY: 'old' };
    expect(takeEvidenceKeyEnv(env)).toEqual({ signingKey: '/keys/ci.key', legacyHmacKeySet: true });
    expect(env).toEqual({ PATH: '/bin' });
    expect(takeEvidenceKeyEnv({ DRILL_EVIDENCE_SIGNING_KEY: '' })).toEqual({ legacyHmacKeySet: false });
  });

  it('withoutEvidenceKeys copies everything else', () => {
    const env = { PATH: '/bin', DRILL_EVIDENCE_SIGNING_KEY: 'x', DRILL_EVIDENCE_KEY: 'y', HOME: '/root' };
    expect(withoutEvidenceKeys(env)).toEqual({ PATH: '/bin', HOME: '/root' });
    expect(env.DRILL_EVIDENCE_SIGNING_KEY).toBe('x');
  });
});
