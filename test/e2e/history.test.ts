import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import type { HistoryReport } from '../../src/history/types.js';
import type { PackIndex } from '../../src/report/evidence-pack-index.js';
import { axisOf, byKind, parseSvg, xOf } from '../report/svg-read.js';
import { leftovers, readJournal, ROOT, runCli, type CliResult } from './helpers.js';

// The evidence people read, from real drills: three cheap PostgreSQL drills through the CLI (the
// index-corruption drill twice, a game day apart as far as history cares, and the RTO negative
// control), then their timeline pictures, `drill history` over them, and the Allure report.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-history-e2e-'));
const reportsDir = path.join(tmp, 'reports');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let run: CliResult;
let again: CliResult;
const runs: Array<{ dir: string; journal: Journal }> = [];
const keyPrefix = path.join(tmp, 'signer');

beforeAll(async () => {
  // Signed, as a CI gate signs its runs: the audit pack takes signed runs only.
  const keygen = await runCli(['keygen', '--out', keyPrefix]);
  expect(keygen.code, keygen.stderr).toBe(0);
  const index = path.join(ROOT, 'drills/scenarios/pg-index-corruption-detect.yaml');
  const env = { DRILL_EVIDENCE_SIGNING_KEY: `${keyPrefix}.key` };
  run = await runCli(['run', index, path.join(ROOT, 'test/fixtures/scenarios/rto-too-tight.yaml'), '--reports-dir', reportsDir], { env });
  // A second game day of the same drill (one `drill run` runs a file named twice once).
  again = await runCli(['run', index, '--reports-dir', reportsDir], { env });
  // Run directories only: `drill run` also writes summary.json there.
  for (const id of readdirSync(reportsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const dir = path.join(reportsDir, id);
    runs.push({ dir, journal: readJournal(dir) });
  }
}, 900_000);

const BROWSER = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((b) => existsSync(b));
const named = (name: string) => runs.filter((r) => r.journal.scenario.definition.name === name);

describe('timeline.svg of real drills', () => {
  it('the drills ran as they must and left nothing behind', () => {
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(runs.map((r) => `${r.journal.scenario.definition.name} ${r.journal.status}`)).toEqual([
      'pg-index-corruption-detect passed',
      'rto-too-tight failed',
      'pg-index-corruption-detect passed',
    ]);
    for (const r of runs) expect(leftovers(r.dir), r.dir).toEqual([]);
  });

  it('draws T_fault, detection, the restored instant with its band and verified recovery at their journal times; the missed RTO as a breach', () => {
    for (const { dir, journal } of runs) {
      const els = parseSvg(readFileSync(path.join(dir, 'timeline.svg'), 'utf8'));
      const x = axisOf(els);
      const { marks, measurements: m } = journal;
      const at = (kind: string) => {
        const found = byKind(els, kind);
        expect(found, `${journal.runId} ${kind}`).toHaveLength(1);
        return found[0]!;
      };
      expect(xOf(at('t-fault'))).toBeCloseTo(x(marks.tFault!.t), 1);
      expect(xOf(at('detected'))).toBeCloseTo(x(marks.tDetected!.t), 1);
      expect(xOf(at('verified'))).toBeCloseTo(x(marks.tVerified!.t), 1);
      const rtoVerdict = journal.verdicts.find((v) => v.check === 'rto')!;
      // Under load the negative control can end before its service is seen stable again: no RTO
      // measured, so no restored instant may be drawn (and the breach runs to the end).
      const restored = m.rtoMs === undefined ? undefined : marks.tFault!.t + m.rtoMs;
      if (restored === undefined) {
        expect(rtoVerdict.status, rtoVerdict.message).toBe('failed');
        expect(byKind(els, 'restored')).toEqual([]);
        expect(byKind(els, 'rto-uncertainty')).toEqual([]);
      } else {
        expect(xOf(at('restored'))).toBeCloseTo(x(restored), 1);
        const band = at('rto-uncertainty');
        expect(xOf(band)).toBeCloseTo(x(marks.tFault!.t + m.rtoLowerBoundMs!), 1);
        expect(xOf(band) + Number(band.attrs.width)).toBeCloseTo(x(restored), 0);
      }
      // One span per runbook step, at its start.
      const steps = byKind(els, 'step');
      expect(steps.map((s) => s.attrs['data-step'])).toEqual(journal.steps.map((s) => s.name));
      steps.forEach((s, i) => expect(xOf(s)).toBeCloseTo(x(journal.steps[i]!.start.t), 1));
      // Every service probe's first failing sample after T_fault starts a failing bar.
      const firstFail = journal.probes.filter((p) => p.service && !p.ok && p.t >= marks.tFault!.t).sort((a, b) => a.t - b.t)[0]!;
      expect(byKind(els, 'probe-fail').some((b) => b.attrs['data-probe'] === firstFail.probe && Math.abs(xOf(b) - x(firstFail.t)) < 0.02)).toBe(true);

      const failedRto = rtoVerdict.status === 'failed';
      expect(byKind(els, 'rto-breach'), journal.runId).toHaveLength(failedRto ? 1 : 0);
      if (failedRto) {
        const limit = marks.tFault!.t + rtoVerdict.limit!;
        const breach = at('rto-breach');
        expect(xOf(breach)).toBeCloseTo(x(limit), 1);
        expect(xOf(at('rto-limit'))).toBeCloseTo(x(limit), 1);
        if (restored !== undefined) expect(xOf(breach) + Number(breach.attrs.width)).toBeCloseTo(x(restored), 0);
      }
      // Lost writes (rto-too-tight loses the writes in flight when it restores) are marked.
      expect(byKind(els, 'lost-writes').length > 0, journal.runId).toBe((m.lostWrites ?? 0) > 0);
    }
    expect(named('rto-too-tight')[0]!.journal.verdicts.find((v) => v.check === 'rto')!.status).toBe('failed');
  });

  it('is in the incident report, the Allure result and the evidence, and `drill verify-evidence` passes over it', async () => {
    for (const { dir } of runs) {
      const svg = readFileSync(path.join(dir, 'timeline.svg'), 'utf8');
      expect(readFileSync(path.join(dir, 'incident-report.md'), 'utf8')).toContain('](timeline.svg)');
      expect(readFileSync(path.join(dir, 'evidence', 'timeline.svg'), 'utf8')).toBe(svg);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'evidence', 'manifest.json'), 'utf8')) as { entries: Array<{ path: string }> };
      expect(manifest.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['timeline.svg', 'evidence/timeline.svg', 'timeline.png', 'evidence/timeline.png']));
      // Its PNG for tickets (test/report/timeline-png.test.ts checks what it shows): beside it, linked, copied, attached.
      const png = readFileSync(path.join(dir, 'timeline.png'));
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(readFileSync(path.join(dir, 'incident-report.md'), 'utf8')).toContain('](timeline.png)');
      expect(readFileSync(path.join(dir, 'evidence', 'timeline.png'))).toEqual(png);
      const results = path.join(dir, 'allure-results');
      const result = readdirSync(results).find((f) => f.endsWith('-result.json'))!;
      const attachments = JSON.parse(readFileSync(path.join(results, result), 'utf8')).steps.flatMap((s: { attachments: unknown[] }) => s.attachments) as Array<{ name: string; type: string; source: string }>;
      const picture = attachments.find((a) => a.name === 'timeline.svg');
      expect(picture?.type).toBe('image/svg+xml');
      expect(readFileSync(path.join(results, picture!.source), 'utf8')).toBe(svg);
      const raster = attachments.find((a) => a.name === 'timeline.png');
      expect(raster?.type).toBe('image/png');
      expect(readFileSync(path.join(results, raster!.source))).toEqual(png);
      // Measured vs limit as parameters (out of the history id), failed checks as labels, the environment.
      const parsed = JSON.parse(readFileSync(path.join(results, result), 'utf8')) as { parameters: Array<{ name: string; value: string; excluded?: boolean }>; labels: Array<{ name: string; value: string }> };
      const journal = runs.find((r) => r.dir === dir)!.journal;
      const param = (name: string) => parsed.parameters.find((p) => p.name === name);
      const rto = journal.verdicts.find((v) => v.check === 'rto')!;
      expect(param('RTO limit')).toMatchObject({ value: rto.limit === 200 ? '200ms' : '15m', excluded: true });
      expect(param('RTO result')?.value).toBe(rto.status);
      expect(param('run id')).toMatchObject({ value: journal.runId, excluded: true });
      expect(parsed.labels.filter((l) => l.name === 'drill-failure').map((l) => l.value)).toEqual(journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check));
      const environment = readFileSync(path.join(results, 'environment.properties'), 'utf8').split('\n');
      expect(Object.keys(journal.components)).toContain('postgresql');
      for (const [k, v] of Object.entries(journal.components)) expect(environment).toContain(`${k}=${v}`);
      expect(environment).toContain(`drill=drill ${journal.harness.version}`);
      const verify = await runCli(['verify-evidence', dir, '--public-key', `${keyPrefix}.pub`]);
      expect(verify.code, verify.stdout).toBe(0);
      expect(verify.stdout).toContain('evidence intact and signed');
    }
    // A PNG edited after sealing (one byte of its image data) is caught; the original put back for the tests after this one.
    const { dir } = runs[0]!;
    const png = readFileSync(path.join(dir, 'timeline.png'));
    const edited = Buffer.from(png);
    edited[edited.length - 20] = edited[edited.length - 20]! ^ 0xff;
    writeFileSync(path.join(dir, 'timeline.png'), edited);
    try {
      const tampered = await runCli(['verify-evidence', dir, '--public-key', `${keyPrefix}.pub`]);
      expect(tampered.code, tampered.stdout).toBe(1);
      expect(tampered.stdout + tampered.stderr).toContain('timeline.png');
    } finally {
      writeFileSync(path.join(dir, 'timeline.png'), png);
    }
  });

  it('`drill report` embeds the picture in its single-file HTML', async () => {
    const { dir } = named('rto-too-tight')[0]!;
    const out = path.join(tmp, 'allure-report');
    const report = await runCli(['report', dir, '--output', out]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    const embedded = [...html.matchAll(/"data\/attachments\/[0-9a-f]+\.svg","([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(embedded).toContain(readFileSync(path.join(dir, 'timeline.svg'), 'utf8'));
  });

  // Rendered by a real headless browser from disk (no server), the drill's result page lists the picture.
  it.skipIf(!BROWSER)('the report opens from disk in a headless browser and shows the timeline attachment', () => {
    const out = path.join(tmp, 'allure-report');
    const ids = Object.keys((JSON.parse(readFileSync(path.join(out, 'test-results.json'), 'utf8')) as { byId: Record<string, unknown> }).byId);
    expect(ids).toHaveLength(1);
    const dom = execFileSync(BROWSER!, ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${path.join(tmp, 'chromium')}`, '--virtual-time-budget=15000', '--dump-dom', `file://${path.join(out, 'index.html')}#${ids[0]}`], {
      encoding: 'utf8',
      timeout: 120_000,
      // The dumped DOM holds the whole single-file report (MBs of embedded data).
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(dom).toContain('data-testid="test-result-attachment"');
    expect(dom).toMatch(/>timeline\.svg<\/span>.*?image\/svg\+xml/s);
  });
});

describe('drill history over real drills', () => {
  it('json: each run with the RTO and RPO its journal measured and the limits it was judged by, oldest first', async () => {
    const result = await runCli(['history', '--reports-dir', reportsDir, '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as HistoryReport;
    expect(report.notes).toEqual([]);
    expect(report.scenarios.map((s) => s.scenario)).toEqual(['pg-index-corruption-detect', 'rto-too-tight']);
    for (const s of report.scenarios) {
      const journals = named(s.scenario).map((r) => r.journal);
      expect(s.runs.map((r) => r.runId)).toEqual(journals.map((j) => j.runId));
      s.runs.forEach((r, i) => {
        const j = journals[i]!;
        const verdict = (check: string) => j.verdicts.find((v) => v.check === check)!;
        expect(r.rto).toEqual({ measuredMs: j.measurements.rtoMs, lowerBoundMs: j.measurements.rtoLowerBoundMs, limitMs: verdict('rto').limit, verdict: verdict('rto').status });
        expect(r.rpo).toEqual({ measuredMs: j.measurements.rpoMs, limitMs: verdict('rpo').limit, verdict: verdict('rpo').status });
      });
    }
    expect(report.scenarios[1]!.runs[0]!.rto).toMatchObject({ limitMs: 200, verdict: 'failed' });
  });

  it('text and md: the tables and trend charts; a foreign directory is a note, not a failure', async () => {
    mkdirSync(path.join(reportsDir, 'not-a-run'));
    const text = await runCli(['history', '--reports-dir', reportsDir]);
    expect(text.code, text.stderr).toBe(0);
    const tight = named('rto-too-tight')[0]!.journal;
    // `≤ 6.2s MISSED`, or `not reached MISSED` when the loaded machine ended it before it was seen stable.
    expect(text.stdout).toMatch(new RegExp(`${tight.runId}\\s+failed\\s+(≤ \\S+|not reached) MISSED\\s+200ms`));
    expect(text.stdout).toContain('2 run(s), 2 passed');
    expect(text.stderr).toMatch(/not-a-run: no journal\.json/);
    const md = await runCli(['history', '--reports-dir', reportsDir, '--scenario', 'pg-index-corruption-detect', '--format', 'md']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout.match(/<svg /g)).toHaveLength(2);
    expect(md.stdout).not.toContain('rto-too-tight');
    rmSync(path.join(reportsDir, 'not-a-run'), { recursive: true });
  });

  it('bad input is exit 2 with what to do, and nothing on stdout', async () => {
    const unknown = await runCli(['history', '--reports-dir', reportsDir, '--scenario', 'pg-index-corruption']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/--scenario pg-index-corruption: no run of it in .*did you mean "pg-index-corruption-detect"/);
    const missing = await runCli(['history', '--reports-dir', path.join(tmp, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist.*give the directory `drill run --reports-dir` wrote to/);
    const format = await runCli(['history', '--reports-dir', reportsDir, '--format', 'pdf']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('give one of text, md, html, json');
  });
});

describe('drill evidence-pack over real signed drills', () => {
  it('packs the three runs, grouped by control, and each packed run verifies again from the extracted pack', async () => {
    const out = path.join(tmp, 'audit.tar.gz');
    const pack = await runCli(['evidence-pack', ...runs.map((r) => r.dir), '--public-key', `${keyPrefix}.pub`, '--out', out]);
    expect(pack.code, pack.stdout + pack.stderr).toBe(0);
    expect(pack.stdout).toContain('3 signed run(s)');
    const extracted = path.join(tmp, 'extracted');
    mkdirSync(extracted);
    execFileSync('tar', ['-xzf', out, '-C', extracted]);
    const index = JSON.parse(readFileSync(path.join(extracted, 'audit', 'index.json'), 'utf8')) as PackIndex;
    const tight = named('rto-too-tight')[0]!.journal.runId;
    expect(index.controls).toEqual([
      { control: 'SOC2:A1.3', runIds: [tight] },
      { control: '(no control named)', runIds: named('pg-index-corruption-detect').map((r) => r.journal.runId) },
    ]);
    for (const r of runs) {
      const packed = path.join(extracted, 'audit', 'runs', r.journal.runId);
      const verify = await runCli(['verify-evidence', packed, '--public-key', `${keyPrefix}.pub`]);
      expect(verify.code, verify.stdout).toBe(0);
    }
    expect(readFileSync(path.join(extracted, 'audit', 'index.md'), 'utf8')).toMatch(new RegExp(`### SOC2:A1\\.3\\n[^#]*\\| ${tight} \\| rto-too-tight \\|.*\\| failed \\| (≤ \\S+|not reached) MISSED \\| 200ms \\|`));
  });

  it('refuses a run edited after it was signed, and writes nothing', async () => {
    const copy = path.join(tmp, 'tampered', path.basename(runs[0]!.dir));
    cpSync(runs[0]!.dir, copy, { recursive: true });
    appendFileSync(path.join(copy, 'incident-report.md'), '\nAll objectives met.\n');
    const out = path.join(tmp, 'refused.tar.gz');
    const pack = await runCli(['evidence-pack', runs[1]!.dir, copy, '--public-key', `${keyPrefix}.pub`, '--out', out]);
    expect(pack.code).toBe(1);
    expect(pack.stdout).toMatch(/TAMPERED: .*incident-report\.md/);
    expect(pack.stdout).toContain('evidence pack NOT written');
    expect(existsSync(out)).toBe(false);
    const noKey = await runCli(['evidence-pack', runs[1]!.dir, '--out', out]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--public-key');
  });
});
