import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, sign, verify } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EvidenceManifest, type EvidenceVerification, verifyEvidence, writeEvidence } from '../../src/report/evidence.js';
import { generateEvidenceKeyPair } from '../../src/report/evidence-keygen.js';
import { readVerifyingKey, type SigningKey, signingKeyFromEnv, type VerifyingKey } from '../../src/report/evidence-keys.js';
import { buildChain, headerLine } from '../../src/report/evidence-manifest.js';
import { makeRunDir, passedJournal, SECRET_PASSWORD } from './fixtures.js';

/** Two real key pairs from `drill keygen`'s writer: A is the signer's, B a forger's. */
interface Pair {
  dir: string;
  signing: SigningKey;
  verifying: VerifyingKey;
  pubFile: string;
}
let keyDir: string;
let A: Pair;
let B: Pair;

async function pair(name: string): Promise<Pair> {
  const files = await generateEvidenceKeyPair(join(keyDir, name));
  return {
    dir: keyDir,
    signing: (await signingKeyFromEnv({ signingKey: files.privateKeyFile, legacyHmacKeySet: false }))!,
    verifying: await readVerifyingKey(files.publicKeyFile),
    pubFile: files.publicKeyFile,
  };
}

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'drill-evidence-keys-'));
  A = await pair('signer');
  B = await pair('forger');
});
afterAll(async () => {
  await rm(keyDir, { recursive: true, force: true });
});

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function runDir(): Promise<string> {
  const dir = await makeRunDir(passedJournal());
  roots.push(dirname(dir));
  return dir;
}

const manifestFile = (dir: string) => join(dir, 'evidence', 'manifest.json');
const sigFile = (dir: string) => join(dir, 'evidence', 'manifest.sig');

async function readManifest(dir: string): Promise<EvidenceManifest> {
  return JSON.parse(await readFile(manifestFile(dir), 'utf8')) as EvidenceManifest;
}

/** What a forger who knows the format does: recompute every link and the root, then write it back. */
async function writeRechained(dir: string, manifest: EvidenceManifest): Promise<Buffer> {
  const { entries, root } = buildChain(
    headerLine(manifest),
    manifest.entries.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
  );
  const bytes = Buffer.from(`${JSON.stringify({ ...manifest, entries, root }, null, 2)}\n`);
  await writeFile(manifestFile(dir), bytes);
  return bytes;
}

async function fileFacts(path: string): Promise<{ sha256: string; size: number }> {
  const bytes = await readFile(path);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** Changes what the run says (the drill passed in 1 ms) and fixes the journal's entry. */
async function editJournalAndRechain(dir: string): Promise<void> {
  const path = join(dir, 'journal.json');
  const journal = JSON.parse(await readFile(path, 'utf8')) as { measurements: { rtoMs?: number } };
  journal.measurements.rtoMs = 1;
  await writeFile(path, JSON.stringify(journal, null, 2));
  const manifest = await readManifest(dir);
  Object.assign(manifest.entries.find((e) => e.path === 'journal.json')!, await fileFacts(path));
  await writeRechained(dir, manifest);
}

const messages = (r: EvidenceVerification) => r.problems.map((p) => `${p.kind}: ${p.message}`);

describe('writeEvidence', () => {
  it('lists every file of the run dir in canonical order, with copies and the redacted scenario', async () => {
    const dir = await runDir();
    const manifest = await writeEvidence(dir, { now: () => new Date('2025-05-01T10:01:00Z') });
    expect(manifest.entries.map((e) => e.path)).toEqual([
      'allure-results/0001-result.json',
      'allure-results/attachments/log.txt',
      'evidence/incident-report.md',
      'evidence/journal.json',
      'evidence/scenario.json',
      'evidence/timeline.svg',
      'incident-report.md',
      'journal.json',
      'progress.jsonl',
      'resources.jsonl',
      'runner.log',
      'timeline.svg',
    ]);
    expect(manifest).toMatchObject({
      manifestVersion: 2,
      runId: passedJournal().runId,
      harness: { name: 'drill', version: '0.1.0' },
      createdAt: '2025-05-01T10:01:00.000Z',
      signer: null,
    });
    for (const e of manifest.entries) expect(e).toMatchObject(await fileFacts(join(dir, e.path)));
    await expect(readFile(sigFile(dir))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readManifest(dir)).toEqual(manifest);
    expect(await readFile(join(dir, 'evidence', 'journal.json'), 'utf8')).toBe(await readFile(join(dir, 'journal.json'), 'utf8'));
    const scenario = await readFile(join(dir, 'evidence', 'scenario.json'), 'utf8');
    expect(JSON.parse(scenario)).toMatchObject({ name: 'db-page-corruption-pitr', severity: 'P1' });
    expect(scenario).not.toContain(SECRET_PASSWORD);
  });

  it('orders paths by their UTF-8 bytes, as `LC_ALL=C sort` does (not by UTF-16 code units)', async () => {
    const dir = await runDir();
    // U+FF21 sorts before U+1F600 in UTF-8 (EF.. < F0..) but after it in UTF-16 (FF21 > D83D).
    const names = ['Zeta.txt', 'alpha.txt', 'é.txt', '\uFF21.txt', '\u{1F600}.txt', 'sub dir/b', 'sub-dir/a'];
    await mkdir(join(dir, 'sub dir'));
    await mkdir(join(dir, 'sub-dir'));
    for (const n of names) await writeFile(join(dir, n), n);
    const paths = (await writeEvidence(dir)).entries.map((e) => e.path);
    const sorted = execFileSync('sort', { input: `${paths.join('\n')}\n`, env: { LC_ALL: 'C' }, encoding: 'utf8' }).trimEnd().split('\n');
    expect(paths).toEqual(sorted);
    expect(paths.indexOf('\uFF21.txt')).toBeLessThan(paths.indexOf('\u{1F600}.txt'));
    expect((await verifyEvidence(dir)).ok).toBe(true);
  });

  it('signs the exact manifest bytes with Ed25519 and names the key by its fingerprint', async () => {
    const dir = await runDir();
    const manifest = await writeEvidence(dir, { signingKey: A.signing });
    expect(manifest.signer).toEqual({ algorithm: 'Ed25519', publicKeyFingerprint: A.verifying.fingerprint });
    expect(A.verifying.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const signature = Buffer.from((await readFile(sigFile(dir), 'utf8')).trim(), 'base64');
    // Checked with node:crypto directly, not through the verifier under test.
    expect(verify(null, await readFile(manifestFile(dir)), A.verifying.publicKey, signature)).toBe(true);
    expect(verify(null, await readFile(manifestFile(dir)), B.verifying.publicKey, signature)).toBe(false);
  });

  it('checks with openssl as the README says (no drill needed)', async (ctx) => {
    try {
      execFileSync('openssl', ['version']);
    } catch {
      ctx.skip('openssl is not installed: the documented command cannot be tried here');
    }
    const dir = await runDir();
    await writeEvidence(dir, { signingKey: A.signing });
    const sigBin = join(dirname(dir), 'manifest.sig.bin');
    await writeFile(sigBin, Buffer.from(await readFile(sigFile(dir), 'utf8'), 'base64'));
    const check = (pub: string) =>
      execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', manifestFile(dir), '-sigfile', sigBin], { encoding: 'utf8' });
    expect(check(A.pubFile)).toMatch(/Signature Verified Successfully/);
    expect(() => check(B.pubFile)).toThrow();
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', A.pubFile, '-outform', 'DER']);
    expect(`sha256:${createHash('sha256').update(der).digest('hex')}`).toBe(A.verifying.fingerprint);
  });

  it('replaces an earlier bundle, its signature included', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { signingKey: A.signing });
    await writeFile(join(dir, 'evidence', 'stale.txt'), 'old');
    const manifest = await writeEvidence(dir);
    expect(manifest.entries.map((e) => e.path)).not.toContain('evidence/stale.txt');
    await expect(readFile(sigFile(dir))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await verifyEvidence(dir)).toMatchObject({ ok: true, origin: 'unsigned' });
  });

  it('refuses a dir without a journal, saying what to pass', async () => {
    const dir = await runDir();
    await unlink(join(dir, 'journal.json'));
    await expect(writeEvidence(dir)).rejects.toMatchObject({ code: 'EVIDENCE_NO_JOURNAL', kind: 'input' });
  });

  it('refuses to seal a run dir holding a symlink', async () => {
    const dir = await runDir();
    await symlink('/etc/hostname', join(dir, 'link'));
    await expect(writeEvidence(dir)).rejects.toMatchObject({ code: 'EVIDENCE_IRREGULAR_FILE', message: expect.stringContaining('link') });
  });
});

/**
 * Each forgery against each kind of bundle. `undefined` = the forgery cannot be told from a
 * genuine bundle in that mode (the point of signing); otherwise a problem it must report.
 */
interface Forgery {
  name: string;
  forge: (dir: string) => Promise<void>;
  signed: RegExp;
  unsigned: RegExp | undefined;
}

const forgeries: Forgery[] = [
  {
    name: 'journal.json edited, manifest re-chained',
    forge: editJournalAndRechain,
    signed: /^tampered: bad signature/,
    unsigned: undefined,
  },
  {
    name: 'journal.json edited, bundle re-sealed without a key (signature removed)',
    forge: async (dir) => {
      await appendFile(join(dir, 'journal.json'), ' ');
      await writeEvidence(dir);
    },
    signed: /^unverifiable: the bundle is not signed/,
    unsigned: undefined,
  },
  {
    name: 'journal.json edited, bundle re-sealed with another key',
    forge: async (dir) => {
      await appendFile(join(dir, 'journal.json'), ' ');
      await writeEvidence(dir, { signingKey: B.signing });
    },
    signed: /^tampered: signer mismatch: the manifest names sha256:/,
    unsigned: /^unverifiable: signed by sha256:[0-9a-f]+ \(Ed25519\), but no public key was given/,
  },
  {
    name: 'signature file removed',
    forge: async (dir) => rm(sigFile(dir), { force: true }),
    signed: /^tampered: the manifest names signer sha256:[0-9a-f]+ but evidence\/manifest\.sig is missing/,
    unsigned: undefined,
  },
  {
    name: 'random signature',
    forge: async (dir) => writeFile(sigFile(dir), `${randomBytes(64).toString('base64')}\n`),
    signed: /^tampered: bad signature: evidence\/manifest\.sig is not an Ed25519 signature/,
    unsigned: /^tampered: evidence\/manifest\.sig is present but the manifest names no signer/,
  },
  {
    name: 'signature by another key over the same manifest',
    forge: async (dir) => writeFile(sigFile(dir), `${sign(null, await readFile(manifestFile(dir)), B.signing.privateKey).toString('base64')}\n`),
    signed: /^tampered: bad signature/,
    unsigned: /^tampered: evidence\/manifest\.sig is present but the manifest names no signer/,
  },
  {
    name: 'signature not base64',
    forge: async (dir) => writeFile(sigFile(dir), 'not a signature\n'),
    signed: /^tampered: evidence\/manifest\.sig is not a base64 Ed25519 signature/,
    unsigned: /^tampered: evidence\/manifest\.sig is present but the manifest names no signer/,
  },
  {
    name: 'an entry dropped, re-chained',
    forge: async (dir) => {
      const manifest = await readManifest(dir);
      await writeRechained(dir, { ...manifest, entries: manifest.entries.filter((e) => e.path !== 'runner.log') });
    },
    signed: /^tampered: unlisted file: runner\.log$/,
    unsigned: /^tampered: unlisted file: runner\.log$/,
  },
  {
    name: 'entries reordered, re-chained',
    forge: async (dir) => {
      const manifest = await readManifest(dir);
      const [first, second, ...rest] = manifest.entries;
      await writeRechained(dir, { ...manifest, entries: [second!, first!, ...rest] });
    },
    signed: /^tampered: entries out of canonical order at entry 1/,
    unsigned: /^tampered: entries out of canonical order at entry 1/,
  },
  {
    name: 'an entry listed twice, re-chained',
    forge: async (dir) => {
      const manifest = await readManifest(dir);
      await writeRechained(dir, { ...manifest, entries: [manifest.entries[0]!, ...manifest.entries] });
    },
    signed: /^tampered: entries out of canonical order at entry 1/,
    unsigned: /^tampered: entries out of canonical order at entry 1/,
  },
  {
    name: 'the header changed (createdAt), chain left alone',
    forge: async (dir) => {
      const manifest = await readManifest(dir);
      await writeFile(manifestFile(dir), JSON.stringify({ ...manifest, createdAt: '2020-01-01T00:00:00.000Z' }, null, 2));
    },
    signed: /^tampered: broken chain at entry 0 \(allure-results\/0001-result\.json\)/,
    unsigned: /^tampered: broken chain at entry 0 \(allure-results\/0001-result\.json\)/,
  },
  {
    name: 'a file added at the run root',
    forge: async (dir) => writeFile(join(dir, 'extra-evidence.txt'), 'slipped in'),
    signed: /^tampered: unlisted file: extra-evidence\.txt$/,
    unsigned: /^tampered: unlisted file: extra-evidence\.txt$/,
  },
  {
    name: 'a file added in a new subdirectory',
    forge: async (dir) => {
      await mkdir(join(dir, 'screenshots'));
      await writeFile(join(dir, 'screenshots', 'all-green.png'), 'png');
    },
    signed: /^tampered: unlisted file: screenshots\/all-green\.png$/,
    unsigned: /^tampered: unlisted file: screenshots\/all-green\.png$/,
  },
  {
    name: 'a file added to evidence/',
    forge: async (dir) => writeFile(join(dir, 'evidence', 'note.txt'), 'x'),
    signed: /^tampered: unlisted file: evidence\/note\.txt$/,
    unsigned: /^tampered: unlisted file: evidence\/note\.txt$/,
  },
  {
    name: 'a file removed',
    forge: async (dir) => unlink(join(dir, 'progress.jsonl')),
    signed: /^incomplete: missing: progress\.jsonl$/,
    unsigned: /^incomplete: missing: progress\.jsonl$/,
  },
  {
    name: 'one byte of runner.log changed, manifest untouched',
    forge: async (dir) => {
      const bytes = await readFile(join(dir, 'runner.log'));
      bytes[0] = bytes[0]! ^ 1;
      await writeFile(join(dir, 'runner.log'), bytes);
    },
    signed: /^tampered: modified: runner\.log \(sha256 /,
    unsigned: /^tampered: modified: runner\.log \(sha256 /,
  },
  {
    name: 'a listed file replaced by a symlink to the same content',
    forge: async (dir) => {
      const copy = join(dirname(dir), 'runner.log.copy');
      await writeFile(copy, await readFile(join(dir, 'runner.log')));
      await unlink(join(dir, 'runner.log'));
      await symlink(copy, join(dir, 'runner.log'));
    },
    signed: /^tampered: not a regular file: runner\.log/,
    unsigned: /^tampered: not a regular file: runner\.log/,
  },
];

describe('verifyEvidence: forgeries', () => {
  it('negative controls: the pristine bundles pass, signed with its origin proven, unsigned without', async () => {
    const signed = await runDir();
    await writeEvidence(signed, { signingKey: A.signing });
    expect(await verifyEvidence(signed, { publicKey: A.verifying })).toMatchObject({ ok: true, problems: [], origin: 'signed' });
    expect(await verifyEvidence(join(signed, 'evidence'), { publicKey: A.verifying })).toMatchObject({ ok: true, origin: 'signed' });
    const unsigned = await runDir();
    await writeEvidence(unsigned);
    expect(await verifyEvidence(unsigned)).toMatchObject({ ok: true, problems: [], origin: 'unsigned' });
  });

  describe.each(forgeries)('$name', ({ forge, signed, unsigned }) => {
    it("fails a signed bundle checked with the signer's public key", async () => {
      const dir = await runDir();
      await writeEvidence(dir, { signingKey: A.signing });
      await forge(dir);
      const result = await verifyEvidence(dir, { publicKey: A.verifying });
      expect(result.ok).toBe(false);
      expect(result.origin).toBeUndefined();
      expect(messages(result)).toContainEqual(expect.stringMatching(signed));
    });

    it(unsigned ? 'fails an unsigned bundle checked without a key' : 'passes an unsigned bundle only as "origin not proven"', async () => {
      const dir = await runDir();
      await writeEvidence(dir);
      await forge(dir);
      const result = await verifyEvidence(dir);
      if (unsigned) {
        expect(result.ok).toBe(false);
        expect(messages(result)).toContainEqual(expect.stringMatching(unsigned));
      } else {
        // Anyone can recompute a chain: without a signature this is all that can be said.
        expect(result).toMatchObject({ ok: true, origin: 'unsigned' });
      }
    });
  });
});

describe('verifyEvidence: keys and formats', () => {
  it('a signed bundle checked without a public key is not verifiable, however intact', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { signingKey: A.signing });
    const result = await verifyEvidence(dir);
    expect(result.ok).toBe(false);
    expect(messages(result)).toEqual([`unverifiable: signed by ${A.verifying.fingerprint} (Ed25519), but no public key was given: pass --public-key <the signer's .pub file> to check the signature`]);
  });

  it('the wrong public key fails, naming both fingerprints', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { signingKey: A.signing });
    const result = await verifyEvidence(dir, { publicKey: B.verifying });
    expect(messages(result)).toEqual([
      `tampered: signer mismatch: the manifest names ${A.verifying.fingerprint}, the given public key ${B.pubFile} is ${B.verifying.fingerprint}`,
      `tampered: bad signature: evidence/manifest.sig is not an Ed25519 signature of evidence/manifest.json by ${B.verifying.fingerprint}`,
    ]);
  });

  it('an unsigned bundle checked with a public key is not verifiable', async () => {
    const dir = await runDir();
    await writeEvidence(dir);
    expect(messages(await verifyEvidence(dir, { publicKey: A.verifying }))).toEqual([
      expect.stringMatching(/^unverifiable: the bundle is not signed, so it cannot be checked against .*signer\.pub \(sha256:[0-9a-f]+\): its origin is not proven$/),
    ]);
  });

  it('refuses a format 1 (HMAC) manifest as not verifiable', async () => {
    const dir = await runDir();
    await writeEvidence(dir);
    await writeFile(manifestFile(dir), JSON.stringify({ manifestVersion: 1, signed: true, sigAlgorithm: 'HMAC-SHA256(root)' }));
    expect(messages(await verifyEvidence(dir))).toEqual([expect.stringMatching(/^unverifiable: evidence\/manifest\.json is format 1 /)]);
  });

  it('reports a missing, malformed or extended manifest', async () => {
    const dir = await runDir();
    expect(messages(await verifyEvidence(dir))).toEqual([expect.stringMatching(/^incomplete: no evidence\/manifest\.json under /)]);
    await writeEvidence(dir);
    const manifest = await readManifest(dir);
    await writeFile(manifestFile(dir), '{"manifestVersion":2}');
    expect(messages(await verifyEvidence(dir))[0]).toMatch(/^tampered: evidence\/manifest\.json is malformed: /);
    await writeRechained(dir, { ...manifest, trustMe: true } as EvidenceManifest);
    expect(messages(await verifyEvidence(dir))[0]).toMatch(/^tampered: evidence\/manifest\.json is malformed: .*trustMe/);
  });

  it('a manifest that stops listing the journal is incomplete', async () => {
    const dir = await runDir();
    await writeEvidence(dir);
    const manifest = await readManifest(dir);
    await writeRechained(dir, { ...manifest, entries: manifest.entries.filter((e) => e.path !== 'evidence/scenario.json') });
    await unlink(join(dir, 'evidence', 'scenario.json'));
    expect(messages(await verifyEvidence(dir))).toEqual(['incomplete: the manifest does not list evidence/scenario.json']);
  });

  it('a manifest moved to another run (runId) fails', async () => {
    const dir = await runDir();
    await writeEvidence(dir);
    await writeRechained(dir, { ...(await readManifest(dir)), runId: 'another-run' });
    expect(messages(await verifyEvidence(dir))).toEqual([`tampered: runId mismatch: manifest another-run, journal ${passedJournal().runId}`]);
  });
});
