import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { environmentProperties, FAILURE_LABEL, failureLabels, measuredParameters } from '../../src/report/allure-evidence.js';
import { generateAllureHtml } from '../../src/report/allure-html.js';
import { allureResult, earlyErrorJournal, failedJournal, passedJournal, tempDir } from './fixtures.js';

const params = (j: ReturnType<typeof passedJournal>) => Object.fromEntries(measuredParameters(j).map((p) => [p.name, p.value]));

describe('Allure parameters, labels and environment of a drill', () => {
  it('each judged check carries its measured value and limit with units; RTO as the upper bound it is', () => {
    expect(params(passedJournal())).toEqual({
      'detection measured': '250ms',
      'detection limit': '1m',
      'detection result': 'passed',
      'RTO measured': '≤ 32s',
      'RTO limit': '15m',
      'RTO result': 'passed',
      'RPO measured': '300ms',
      'RPO limit': '5m',
      'RPO result': 'passed',
      'lost writes': '3',
    });
    const failed = failedJournal();
    failed.verdicts = failed.verdicts.map((v) => (v.check === 'rto' ? { ...v, measured: 1_000_001 } : v));
    expect(params(failed)).toMatchObject({ 'RTO measured': '≤ 16m40.01s', 'RTO result': 'failed' });
    expect(params(earlyErrorJournal())).toEqual({});
  });

  it('labels name every failed check, or the environment when nothing was judged; a passed drill has none', () => {
    expect(failureLabels(passedJournal())).toEqual([]);
    expect(failureLabels(failedJournal())).toEqual(['rto', 'integrity']);
    expect(failureLabels(earlyErrorJournal())).toEqual(['environment']);
  });

  it('environment.properties: versions and platform, escaped as Java properties', () => {
    const j = passedJournal();
    j.components = { postgres: '15.6', 'odd=key': 'line1\nline2' };
    const text = environmentProperties(j);
    expect(text.split('\n')).toEqual(expect.arrayContaining(['drill=drill 0.1.0', 'node=v20.11.1', 'platform=linux/x64', 'postgres=15.6', 'odd\\=key=line1\\nline2', `run=${j.runId}`]));
  });
});

describe('categories in the generated report (real Allure 3 CLI)', () => {
  let root: string;
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('files each drill under its most serious failed check, and shows the environment', async () => {
    root = await tempDir();
    const results = join(root, 'allure-results');
    await mkdir(results);
    const labelled = (uuid: string, status: 'passed' | 'failed', ...failures: string[]) => {
      const r = allureResult(uuid, status);
      return JSON.stringify({ ...r, name: `drill ${uuid}`, fullName: `drills/${uuid}`, historyId: `h-${uuid}`, labels: [...(r.labels as unknown[]), ...failures.map((f) => ({ name: FAILURE_LABEL, value: f }))] });
    };
    await writeFile(join(results, 'a-result.json'), labelled('a', 'failed', 'rto'));
    await writeFile(join(results, 'b-result.json'), labelled('b', 'failed', 'rto', 'integrity'));
    await writeFile(join(results, 'c-result.json'), labelled('c', 'failed', 'environment'));
    await writeFile(join(results, 'd-result.json'), labelled('d', 'passed'));
    await writeFile(join(results, 'environment.properties'), environmentProperties(passedJournal()));
    const html = await readFile(await generateAllureHtml([results], join(root, 'html')), 'utf8');
    const files = new Map([...html.matchAll(/d\("([^"]+)","([A-Za-z0-9+/=]+)"/g)].map((m) => [m[1]!, Buffer.from(m[2]!, 'base64').toString('utf8')]));
    const categoriesFile = [...files.keys()].find((k) => /(^|\/)categories\.json$/.test(k));
    expect(categoriesFile, [...files.keys()].join(', ')).toBeDefined();
    const categories = files.get(categoriesFile!)!;
    for (const name of ['RTO breach', 'Integrity failure', 'Environment (drill could not run: not judged)']) expect(categories).toContain(name);
    expect(categories).not.toContain('RPO breach');
    // Each test result names the category it was filed under.
    const filed = (uuid: string) => [...files.entries()].find(([k, v]) => k.startsWith('data/test-results/') && v.includes(`"drill ${uuid}"`))?.[1];
    expect(filed('a')).toContain('"RTO breach"');
    expect(filed('b')).toContain('"Integrity failure"');
    expect(filed('b')).not.toContain('"RTO breach"');
    expect(filed('c')).toContain('Environment (drill could not run');
    expect(filed('d')).not.toMatch(/breach|Integrity failure/);
    expect([...files.values()].some((v) => v.includes('postgres') && v.includes('15.6'))).toBe(true);
  });
});

describe('Allure history between reports (real Allure 3 CLI)', () => {
  let root: string;
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('with a history file, the second report shows the drill\'s first result; without one it does not', async () => {
    root = await tempDir();
    const history = join(root, 'allure-history.jsonl');
    const embeddedHistory = (html: string) => [...html.matchAll(/d\("(data\/history\/[^"]+)","([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[2]!, 'base64').toString('utf8'));
    const report = async (i: number, status: 'passed' | 'failed', historyPath?: string) => {
      const results = join(root, `run${i}`, 'allure-results');
      await mkdir(results, { recursive: true });
      // One drill (one history id) run twice: the run id is an excluded parameter, so it does not split it.
      await writeFile(join(results, `r${i}-result.json`), JSON.stringify({ ...allureResult(`000${i}`, status), historyId: 'drill-db-page-corruption-pitr' }));
      return readFile(await generateAllureHtml([results], join(root, `html${i}`), historyPath ? { historyPath } : {}), 'utf8');
    };
    await report(1, 'passed', history);
    const second = await report(2, 'failed', history);
    expect((await readFile(history, 'utf8')).trim().split('\n')).toHaveLength(2);
    const shown = embeddedHistory(second);
    expect(shown.join('\n')).toContain('"status":"passed"');
    // The negative control: no history file, no earlier results in the report.
    expect(embeddedHistory(await report(3, 'failed'))).toEqual([]);
  });
});
