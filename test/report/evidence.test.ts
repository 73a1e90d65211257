import { appendFile, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EvidenceManifest, verifyEvidence, writeEvidence } from '../../src/report/evidence.js';
import { makeRunDir, passedJournal, SECRET_PASSWORD } from './fixtures.js';

const KEY = 'user-held-key-0123456789';
const roots: string[] = [];

afterEach(async () => {
  await Promise.all(roots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function runDir(): Promise<string> {
  const dir = await makeRunDir(passedJournal());
  roots.push(dirname(dir));
  return dir;
}

async function readManifest(dir: string): Promise<EvidenceManifest> {
  return JSON.parse(await readFile(join(dir, 'evidence', 'manifest.json'), 'utf8')) as EvidenceManifest;
}

async function writeManifest(dir: string, manifest: EvidenceManifest): Promise<void> {
  await writeFile(join(dir, 'evidence', 'manifest.json'), JSON.stringify(manifest, null, 2));
}

describe('writeEvidence', () => {
  it('writes copies, the scenario and a chained manifest of every file that matters', async () => {
    const dir = await runDir();
    const manifest = await writeEvidence(dir, { key: undefined, now: () => new Date('2025-05-01T10:01:00Z') });
    expect(manifest.entries.map((e) => e.path)).toEqual([
      'journal.json',
      'incident-report.md',
      'allure-results/0001-result.json',
      'allure-results/attachments/log.txt',
      'evidence/incident-report.md',
      'evidence/journal.json',
      'evidence/scenario.json',
    ]);
    expect(manifest).toMatchObject({ runId: passedJournal().runId, harness: { name: 'drill', version: '0.1.0' }, createdAt: '2025-05-01T10:01:00.000Z', signed: false });
    expect(manifest.sig).toBeUndefined();
    expect(await readManifest(dir)).toEqual(manifest);
    expect(await readFile(join(dir, 'evidence', 'journal.json'), 'utf8')).toBe(await readFile(join(dir, 'journal.json'), 'utf8'));
    const scenario = await readFile(join(dir, 'evidence', 'scenario.json'), 'utf8');
    expect(JSON.parse(scenario)).toMatchObject({ name: 'db-page-corruption-pitr', severity: 'P1' });
    expect(scenario).not.toContain(SECRET_PASSWORD);
  });

  it('replaces an earlier bundle instead of listing stale files', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    await writeFile(join(dir, 'evidence', 'stale.txt'), 'old');
    const manifest = await writeEvidence(dir, { key: undefined });
    expect(manifest.entries.map((e) => e.path)).not.toContain('evidence/stale.txt');
    expect((await verifyEvidence(dir, { key: undefined })).ok).toBe(true);
  });

  it('refuses a dir without a journal, saying what to pass', async () => {
    const dir = await runDir();
    await unlink(join(dir, 'journal.json'));
    await expect(writeEvidence(dir)).rejects.toMatchObject({ code: 'EVIDENCE_NO_JOURNAL', kind: 'input' });
  });
});

describe('verifyEvidence', () => {
  it('passes an intact bundle, given the run dir or its evidence dir', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    expect(await verifyEvidence(dir, { key: undefined })).toMatchObject({ ok: true, problems: [], warnings: [] });
    expect(await verifyEvidence(join(dir, 'evidence'), { key: undefined })).toMatchObject({ ok: true, problems: [] });
  });

  it('fails when one byte of the journal copy changed, naming the file', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    const path = join(dir, 'evidence', 'journal.json');
    const bytes = await readFile(path);
    bytes[10] = bytes[10]! ^ 1;
    await writeFile(path, bytes);
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.stringMatching(/^modified: evidence\/journal\.json /)]);
  });

  it('fails when a listed file is deleted', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    await unlink(join(dir, 'allure-results', '0001-result.json'));
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(['missing: allure-results/0001-result.json']);
  });

  it('fails when an unlisted file is added to evidence/ or allure-results/', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    await writeFile(join(dir, 'evidence', 'extra.txt'), 'slipped in');
    await writeFile(join(dir, 'allure-results', '9999-result.json'), '{}');
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(['unlisted file: evidence/extra.txt', 'unlisted file: allure-results/9999-result.json']);
  });

  it('fails when the manifest is edited to match a changed file (broken chain)', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    await appendFile(join(dir, 'incident-report.md'), '\nAll good, nothing to see.\n');
    const manifest = await readManifest(dir);
    const entry = manifest.entries.find((e) => e.path === 'incident-report.md')!;
    // What a naive forger does: fix the file's hash and size, leave the chain.
    const { createHash } = await import('node:crypto');
    const text = await readFile(join(dir, 'incident-report.md'));
    entry.sha256 = createHash('sha256').update(text).digest('hex');
    entry.size = text.length;
    await writeManifest(dir, manifest);
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.stringMatching(/^broken chain at entry 2 \(allure-results\/0001-result\.json\)/)]);
  });

  it('fails when entries are reordered or dropped', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    const original = await readManifest(dir);

    await writeManifest(dir, { ...original, entries: [original.entries[1]!, original.entries[0]!, ...original.entries.slice(2)] });
    expect((await verifyEvidence(dir, { key: undefined })).problems.some((p) => p.startsWith('broken chain'))).toBe(true);

    await writeManifest(dir, { ...original, entries: original.entries.slice(0, -1) });
    const dropped = await verifyEvidence(dir, { key: undefined });
    expect(dropped.ok).toBe(false);
    expect(dropped.problems).toContainEqual(expect.stringMatching(new RegExp(`^broken chain: root ${original.root} does not match`)));
    expect(dropped.problems).toContain('unlisted file: evidence/scenario.json');
  });

  it('fails when the header (runId, createdAt) is changed', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: undefined });
    await writeManifest(dir, { ...(await readManifest(dir)), createdAt: '2020-01-01T00:00:00.000Z' });
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatch(/^broken chain at entry 0 \(journal\.json\)/);
  });

  it('reports a missing or malformed manifest', async () => {
    const dir = await runDir();
    expect((await verifyEvidence(dir, { key: undefined })).problems[0]).toMatch(/^no evidence\/manifest\.json under /);
    await writeEvidence(dir, { key: undefined });
    await writeFile(join(dir, 'evidence', 'manifest.json'), '{"manifestVersion":1}');
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatch(/^evidence\/manifest\.json is malformed: /);
  });
});

describe('signed evidence', () => {
  it('signs with the key and verifies with the same key', async () => {
    const dir = await runDir();
    const manifest = await writeEvidence(dir, { key: KEY });
    expect(manifest).toMatchObject({ signed: true, sigAlgorithm: 'HMAC-SHA256(root)', sig: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await verifyEvidence(dir, { key: KEY })).toMatchObject({ ok: true, problems: [], warnings: [] });
  });

  it('fails with a wrong key', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: KEY });
    const result = await verifyEvidence(dir, { key: 'not-the-key' });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.stringMatching(/^bad signature/)]);
  });

  it('without a key, says the signature was not checked but does not fail for that', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: KEY });
    const result = await verifyEvidence(dir, { key: undefined });
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([expect.stringContaining('signature not checked')]);
  });

  it('fails a fully re-hashed forgery when the key is present', async () => {
    const dir = await runDir();
    await writeEvidence(dir, { key: KEY });
    await appendFile(join(dir, 'journal.json'), ' ');
    // The forger re-writes the bundle without the key: a consistent chain, but no valid signature.
    await writeEvidence(dir, { key: 'forger-key' });
    expect((await verifyEvidence(dir, { key: KEY })).problems).toEqual([expect.stringMatching(/^bad signature/)]);
    await writeEvidence(dir, { key: undefined });
    expect((await verifyEvidence(dir, { key: KEY })).problems).toEqual([expect.stringMatching(/^manifest is not signed, but a key was given/)]);
  });

  it('reads the key from DRILL_EVIDENCE_KEY by default', async () => {
    const dir = await runDir();
    const before = process.env.DRILL_EVIDENCE_KEY;
    process.env.DRILL_EVIDENCE_KEY = KEY;
    try {
      expect((await writeEvidence(dir)).signed).toBe(true);
      expect((await verifyEvidence(dir)).ok).toBe(true);
    } finally {
      if (before === undefined) delete process.env.DRILL_EVIDENCE_KEY;
      else process.env.DRILL_EVIDENCE_KEY = before;
    }
  });
});
