import { describe, expect, it } from 'vitest';
import { joinCoverage } from '../../src/coverage/join.js';
import { coverageFormat, renderCoverage } from '../../src/coverage/render.js';
import { parseMinCoverage, parseSince } from '../../src/coverage/since.js';
import type { CoverageReport } from '../../src/coverage/types.js';
import { parsed, shippedRunbook } from '../runbook/shipped-runbook.js';
import { journalOf, shippedScenario } from './journal-of.js';

const NOW = new Date('2025-10-01T12:00:00Z');

async function report(runbook = shippedRunbook()): Promise<CoverageReport> {
  const pitr = await shippedScenario('db-corruption-pitr');
  const stale = await shippedScenario('db-corruption-stale-backup');
  return joinCoverage(
    runbook,
    [
      journalOf(pitr, { status: 'passed', endedAt: '2025-09-30T08:15:00.000Z', rtoMs: 41_234, rpoMs: 0 }),
      journalOf(stale, { status: 'failed', endedAt: '2025-09-30T09:00:00.000Z', rpoMs: 6100 }),
    ],
    { now: NOW, sinceMs: 90 * 86_400_000, sinceText: '90d', reportsDir: 'reports' },
  );
}

describe('coverage output', () => {
  it('text: a table per section with procedure, drills, last run, result, RTO/RPO against the objective; totals; never-drilled list', async () => {
    const text = renderCoverage(await report(), 'text');
    const lines = text.split('\n');
    const at = lines.indexOf('Disaster Recovery Scenarios › Scenario 2: Database Corruption › Data Recovery');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {2}STATUS +PROCEDURE +DRILLS +LAST RUN +RESULT +RTO \/ OBJECTIVE +RPO \/ OBJECTIVE$/);
    expect(lines[at + 3]).toMatch(/^ {2}covered\* +Restore from point-in-time backup +db-corruption-pitr +2025-09-30 08:15Z +passed +≤ 41\.24s \/ 15m met +0ms \/ 5m met$/);
    expect(text).toContain('Coverage: 7 of 66 procedures covered (10.6%); 0 stale, 0 failing, 0 changed since drilled, 59 never drilled');
    expect(text).toContain('* drilled without --runbook');
    expect(text).toMatch(/Never drilled \(59\):\n {2}emergency-rollback-procedures\/immediate-response-0-5-minutes\/step-1-incident-assessment#quick-health-check {2}\(line 40\)/);
    expect(text).toMatch(/db-corruption-stale-backup: failed as a negative control must/);
    // Sections without procedures (contacts, templates) get no table.
    expect(text).not.toContain('Emergency Contact Information');
  });

  it('md: Markdown tables with the procedure ids', async () => {
    const md = renderCoverage(await report(), 'md');
    expect(md).toMatch(/^# Runbook coverage: TrustStram v4.4 Rollback & Disaster Recovery Procedures$/m);
    expect(md).toContain('## Disaster Recovery Scenarios › Scenario 2: Database Corruption › Data Recovery');
    expect(md).toContain('| covered* | Restore from point-in-time backup<br>`restore-from-point-in-time-backup` | db-corruption-pitr | 2025-09-30 08:15Z | passed | ≤ 41.24s / 15m met | 0ms / 5m met |');
  });

  it('json: the report itself, for dashboards', async () => {
    const r = await report();
    const json = JSON.parse(renderCoverage(r, 'json')) as CoverageReport;
    expect(json).toEqual(JSON.parse(JSON.stringify(r)));
    expect(json.totals.ratio).toBeCloseTo(7 / 66);
  });

  it('html: one self-contained page (no script, no external asset) that escapes what it shows', async () => {
    const runbook = shippedRunbook();
    const hostile = parsed('# <script>alert(1)</script>\n## A <img src=x onerror=alert(1)>\n```bash\n# Run "it" & <b>go</b>\nls\n```\n');
    for (const html of [renderCoverage(await report(runbook), 'html'), renderCoverage(await report(hostile), 'html')]) {
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain('<style>');
      // Every tag the page has: none loads anything.
      const tags = html.match(/<[^>]*>/g) ?? [];
      expect(tags.filter((t) => /^<\/?(script|link|img|iframe|object|embed|base)\b|\s(src|href|srcset|action)=/i.test(t))).toEqual([]);
      expect(html).not.toMatch(/url\(|@import/i);
    }
    const page = renderCoverage(await report(hostile), 'html');
    expect(page).toContain('&lt;/script');
    expect(page).toContain('<h2>A &lt;img src=x onerror=alert(1)</h2>');
    expect(page).toContain('Run &quot;it&quot; &amp; &lt;b&gt;go&lt;/b&gt;');
    const shipped = renderCoverage(await report(runbook), 'html');
    expect(shipped).toContain('<span class="badge covered">covered*</span>');
    expect(shipped).toContain('Coverage 10.6%');
  });

  it('flags: --format, --since and --min-coverage say what they take', () => {
    expect(() => coverageFormat('pdf')).toThrow(/--format "pdf": give one of text, md, json, html/);
    expect(parseSince('90d')).toBe(90 * 86_400_000);
    expect(parseSince('1d12h')).toBe(36 * 3_600_000);
    expect(parseSince('2w')).toBe(14 * 86_400_000);
    for (const bad of ['90', 'ninety days', '0d', '-1d', '']) expect(() => parseSince(bad), bad).toThrow(/--since ".*": give a duration greater than zero/);
    // Bounded: a date before the earliest one JavaScript has would end the report in a RangeError.
    expect(parseSince('36500d')).toBe(36_500 * 86_400_000);
    for (const bad of ['36501d', '99999999999999w', `${'9'.repeat(400)}d`]) expect(() => parseSince(bad), bad).toThrow(/give a duration greater than zero and at most 36500d/);
    expect(parseMinCoverage('0.8')).toBe(0.8);
    expect(parseMinCoverage('80%')).toBe(0.8);
    for (const bad of ['1.5', '80', 'most', '-0.1']) expect(() => parseMinCoverage(bad), bad).toThrow(/--min-coverage/);
  });
});
