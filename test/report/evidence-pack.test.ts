import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidencePackCommand } from '../../src/cli/evidence-pack.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { verifyEvidence, writeEvidence } from '../../src/report/evidence.js';
import { generateEvidenceKeyPair } from '../../src/report/evidence-keygen.js';
import { readVerifyingKey, type SigningKey, signingKeyFromEnv, type VerifyingKey } from '../../src/report/evidence-keys.js';
import { manifestSchema } from '../../src/report/evidence-manifest.js';
import type { PackIndex } from '../../src/report/evidence-pack-index.js';
import { packEvidence } from '../../src/report/evidence-pack.js';
import { writeTimelinePng } from '../../src/report/timeline-png.js';
import { TIMELINE_FILE } from '../../src/report/timeline-svg.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { failedJournal, makeRunDir, passedJournal, SECRET_PASSWORD } from './fixtures.js';

let work: string;
let signing: SigningKey;
let verifying: VerifyingKey;
let pubFile: string;
let otherPub: string;
const roots: string[] = [];

function withControls(journal: Journal, runId: string, startedAt: string, controls?: string[]): Journal {
  journal.runId = runId;
  journal.startedAt = startedAt;
  if (controls) journal.scenario.definition = { ...journal.scenario.definition, compliance: controls };
  return journal;
}

async function signedRun(journal: Journal, sign = true, png = false): Promise<string> {
  const dir = await makeRunDir(journal);
  roots.push(dirname(dir));
  // As writeRunArtifacts leaves it on a machine that can rasterize.
  if (png) expect((await writeTimelinePng(dir, await readFile(join(dir, TIMELINE_FILE), 'utf8'))).written).toBe(true);
  await writeEvidence(dir, sign ? { signingKey: signing } : {});
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'drill-pack-'));
  const pair = await generateEvidenceKeyPair(join(work, 'signer'));
  signing = (await signingKeyFromEnv({ signingKey: pair.privateKeyFile, legacyHmacKeySet: false }))!;
  verifying = await readVerifyingKey(pair.publicKeyFile);
  pubFile = pair.publicKeyFile;
  otherPub = (await generateEvidenceKeyPair(join(work, 'other'))).publicKeyFile;
});
afterAll(async () => {
  for (const d of [work, ...roots]) await rm(d, { recursive: true, force: true });
});

describe('drill evidence-pack', () => {
  it('packs verified signed runs with an index grouped by control; the extracted runs verify again without drill having touched them', async () => {
    const a = await signedRun(withControls(passedJournal(), '20250501T100000Z-a', '2025-05-01T10:00:00.000Z', ['SOC2:A1.3', 'ISO27001:A.5.30']), true, true);
    const b = await signedRun(withControls(failedJournal(), '20250601T100000Z-b', '2025-06-01T10:00:00.000Z', ['SOC2:A1.3']));
    const c = await signedRun(withControls(passedJournal(), '20250401T100000Z-c', '2025-04-01T10:00:00.000Z'));
    const out = join(work, 'audit-2025.tar.gz');
    const result = await packEvidence([a, b, c], { out, publicKey: verifying, now: () => new Date('2025-07-01T00:00:00Z') });
    expect(result.ok).toBe(true);

    const extracted = join(work, 'extracted');
    execFileSync('mkdir', ['-p', extracted]);
    // The system's tar, as an auditor would open it.
    execFileSync('tar', ['-xzf', out, '-C', extracted]);
    const root = join(extracted, 'audit-2025');
    const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as PackIndex;
    expect(index.verifiedWith).toBe(verifying.fingerprint);
    expect(index.controls).toEqual([
      { control: 'ISO27001:A.5.30', runIds: ['20250501T100000Z-a'] },
      { control: 'SOC2:A1.3', runIds: ['20250501T100000Z-a', '20250601T100000Z-b'] },
      { control: '(no control named)', runIds: ['20250401T100000Z-c'] },
    ]);
    expect(index.runs.find((r) => r.run.runId === '20250601T100000Z-b')!.run.rto).toMatchObject({ measuredMs: 1_000_000, limitMs: 900_000, verdict: 'failed' });

    for (const [dir, id] of [[a, '20250501T100000Z-a'], [b, '20250601T100000Z-b']] as const) {
      const packed = join(root, 'runs', id);
      const manifest = manifestSchema.parse(JSON.parse(await readFile(join(packed, 'evidence', 'manifest.json'), 'utf8')));
      for (const e of manifest.entries) expect(await readFile(join(packed, e.path)), e.path).toEqual(await readFile(join(dir, e.path)));
      expect(await verifyEvidence(packed, { publicKey: verifying })).toMatchObject({ ok: true, origin: 'signed' });
    }
    const md = await readFile(join(root, 'index.md'), 'utf8');
    expect(md).toMatch(/### SOC2:A1\.3\n\n\| Run \|.*\n\|---.*\n\| 20250501T100000Z-a \| db-page-corruption-pitr \| 2025-05-01 10:00:00 \| passed \| ≤ 32s \| 15m \| 300ms \| 5m \| runs\/20250501T100000Z-a\/ \|\n\| 20250601T100000Z-b .*\| failed \| ≤ 16m40s MISSED \| 15m \|/);
    const html = await readFile(join(root, 'index.html'), 'utf8');
    expect(html).toContain('<img src="runs/20250501T100000Z-a/timeline.svg"');
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(existsSync(join(root, 'runs/20250501T100000Z-a/timeline.svg'))).toBe(true);
    // The PNG is linked where the run has one (a), and only there.
    expect(existsSync(join(root, 'runs/20250501T100000Z-a/timeline.png'))).toBe(true);
    expect(md).toContain('[timeline](runs/20250501T100000Z-a/timeline.svg) ([PNG](runs/20250501T100000Z-a/timeline.png))');
    expect(html).toContain('<a href="runs/20250501T100000Z-a/timeline.png">timeline PNG</a>');
    expect(md + html).not.toMatch(/20250601T100000Z-b\/timeline\.png/);
    // What redaction kept out of the runs stays out of the index.
    expect(md + html).not.toContain(SECRET_PASSWORD);
  });

  it('refuses the whole pack when one run fails verification: tampered, unsigned, or signed by another key', async () => {
    const good = await signedRun(withControls(passedJournal(), '20250501T100000Z-good', '2025-05-01T10:00:00.000Z', ['SOC2:A1.3']));
    const tampered = await signedRun(withControls(passedJournal(), '20250502T100000Z-tampered', '2025-05-02T10:00:00.000Z'));
    await appendFile(join(tampered, 'incident-report.md'), '\nAll objectives met.\n');
    const unsigned = await signedRun(withControls(passedJournal(), '20250503T100000Z-unsigned', '2025-05-03T10:00:00.000Z'), false);
    const out = join(work, 'refused.tar.gz');
    const result = await packEvidence([good, tampered, unsigned], { out, publicKey: verifying });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.refused.map((r) => r.runDir)).toEqual([tampered, unsigned]);
    expect(result.refused[0]!.problems.map((p) => `${p.kind} ${p.message}`).join('\n')).toMatch(/tampered .*incident-report\.md/);
    expect(result.refused[1]!.problems.map((p) => p.kind)).toContain('unverifiable');
    expect(existsSync(out)).toBe(false);
    expect(await evidencePackCommand([good, tampered], { out, publicKey: pubFile })).toBe(1);
    expect(await evidencePackCommand([good], { out, publicKey: otherPub })).toBe(1);
    expect(existsSync(out)).toBe(false);
    // The negative control: the good run alone, with its signer's key, packs.
    expect(await evidencePackCommand([good], { out, publicKey: pubFile })).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('bad input: no public key, a path that is not a run dir, an --out inside a run dir', async () => {
    const dir = await signedRun(passedJournal());
    await expect(evidencePackCommand([dir], { out: join(work, 'x.tar.gz') })).rejects.toMatchObject({ code: 'PACK_PUBLIC_KEY_REQUIRED', kind: 'input' });
    await expect(packEvidence([join(work, 'nope')], { out: join(work, 'x.tar.gz'), publicKey: verifying })).rejects.toMatchObject({ code: 'PACK_RUN_DIR_INVALID', kind: 'input' });
    await expect(packEvidence([dir], { out: join(dir, 'pack.tar.gz'), publicKey: verifying })).rejects.toMatchObject({ code: 'PACK_INSIDE_RUN_DIR', kind: 'input' });
    await expect(packEvidence([dir, dir], { out: join(work, 'x.tar.gz'), publicKey: verifying })).rejects.toMatchObject({ code: 'PACK_DUPLICATE_RUN' });
    await expect(packEvidence([dir], { out: join(work, 'no-such-dir', 'x.tar.gz'), publicKey: verifying })).rejects.toMatchObject({ code: 'PACK_OUT_INVALID', kind: 'input' });
  });

  it('scenario `compliance:` takes FRAMEWORK:CONTROL ids and refuses anything else', () => {
    const base = {
      name: 'pg-page-corruption',
      title: 'Heap page corruption',
      runbook: 'Database corruption',
      severity: 'P0',
      targets: { postgres: { provider: 'native' } },
      workload: { probes: [{ type: 'sql', name: 'sql', query: 'select 1' }] },
      faults: [{ type: 'pg-page-corruption', table: 'transfers' }],
      recovery: [{ step: 'stop-writes' }],
    };
    expect(scenarioSchema.parse(base).compliance).toBeUndefined();
    expect(scenarioSchema.parse({ ...base, compliance: ['SOC2:A1.3', 'ISO27001:A.5.30'] }).compliance).toEqual(['SOC2:A1.3', 'ISO27001:A.5.30']);
    const bad = scenarioSchema.safeParse({ ...base, compliance: ['A1.3'] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('FRAMEWORK:CONTROL');
  });
});
