import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allureCli, findRunDirs, generateAllureHtml } from '../../src/report/allure-html.js';
import { allureResult, tempDir } from './fixtures.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const dir = await tempDir();
  roots.push(dir);
  return dir;
}

describe('generateAllureHtml (real Allure 3 CLI, offline)', () => {
  it('finds the CLI of the installed allure package', async () => {
    const cli = allureCli();
    expect(cli).toMatch(/node_modules[/\\]allure[/\\]cli\.js$/);
    expect((await stat(cli)).isFile()).toBe(true);
  });

  it('generates index.html from hand-written results, including a dir name with glob characters', async () => {
    const root = await scratch();
    const plain = join(root, 'run-1', 'allure-results');
    const odd = join(root, 'run[2] (retry)', 'allure-results');
    await mkdir(plain, { recursive: true });
    await mkdir(odd, { recursive: true });
    await writeFile(join(plain, '0001-result.json'), JSON.stringify(allureResult('0001')));
    await writeFile(join(odd, '0002-result.json'), JSON.stringify({ ...allureResult('0002', 'failed'), name: 'second drill', fullName: 'drills/second#x' }));

    const out = join(root, 'html');
    const index = await generateAllureHtml([plain, odd], out);
    expect(index).toBe(join(out, 'index.html'));
    expect((await stat(index)).size).toBeGreaterThan(0);
    // Both results made it in (the summary counts them).
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { stats?: Record<string, number> };
    expect(summary.stats).toMatchObject({ total: 2, passed: 1, failed: 1 });
  });

  it('builds one self-contained index.html that opens from disk (no data fetched over file://)', async () => {
    const root = await scratch();
    const results = join(root, 'allure-results');
    await mkdir(results);
    await writeFile(join(results, '0001-result.json'), JSON.stringify({ ...allureResult('0001'), name: 'region failover drill' }));
    const out = join(root, 'html');
    const html = await readFile(await generateAllureHtml([results], out), 'utf8');
    // A multi-file report keeps its results in data/ and fetches them, which browsers refuse
    // from file://: the page then spins for ever.
    expect(await readdir(out)).not.toContain('data');
    const embedded = [...html.matchAll(/d\("(data\/test-results\/[^"]+)","([A-Za-z0-9+/=]+)"/g)];
    expect(embedded.length).toBe(1);
    expect(Buffer.from(embedded[0]![2]!, 'base64').toString('utf8')).toContain('region failover drill');
  });

  it('replaces an earlier report instead of leaving its index.html on top', async () => {
    const root = await scratch();
    const results = join(root, 'allure-results');
    await mkdir(results);
    await writeFile(join(results, '0001-result.json'), JSON.stringify(allureResult('0001')));
    const out = join(root, 'html');
    await generateAllureHtml([results], out);
    await writeFile(join(results, '0002-result.json'), JSON.stringify({ ...allureResult('0002', 'failed'), name: 'second', fullName: 'drills/second#x' }));
    await generateAllureHtml([results], out);
    expect(await readdir(out)).not.toContain('awesome');
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { stats?: Record<string, number> };
    expect(summary.stats).toMatchObject({ total: 2 });
    expect((await readdir(root)).filter((name) => name.includes('staging'))).toEqual([]);
  });

  it('refuses to replace a non-empty dir that is not a report', async () => {
    const root = await scratch();
    await mkdir(join(root, 'allure-results'));
    await writeFile(join(root, 'precious.txt'), 'keep me');
    await expect(generateAllureHtml([join(root, 'allure-results')], root)).rejects.toMatchObject({ code: 'ALLURE_BAD_OUTPUT', kind: 'input' });
    expect(await readFile(join(root, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('throws an EnvironmentError with what to do when the CLI fails', async () => {
    const root = await scratch();
    const results = join(root, 'allure-results');
    await mkdir(results);
    // The real CLI, given no time: killed, which is what a hung or broken CLI looks like.
    const failing = generateAllureHtml([results], join(root, 'html'), { timeoutMs: 1 });
    await expect(failing).rejects.toMatchObject({ name: 'EnvironmentError', code: 'ALLURE_GENERATE_FAILED', kind: 'environment' });
    await expect(failing).rejects.toThrow(/npm ci/);
    expect(await readdir(root)).toEqual(['allure-results']);
  });

  it('rejects a results dir that does not exist', async () => {
    const root = await scratch();
    await expect(generateAllureHtml([join(root, 'nope')], join(root, 'html'))).rejects.toMatchObject({ code: 'ALLURE_NO_RESULTS', kind: 'input' });
    await expect(generateAllureHtml([], join(root, 'html'))).rejects.toMatchObject({ code: 'ALLURE_NO_RESULTS' });
  });
});

describe('findRunDirs', () => {
  it('lists dirs holding a journal.json, newest first', async () => {
    const root = await scratch();
    const runs = ['run-a', 'run-b', 'run-c'];
    for (const [i, name] of runs.entries()) {
      await mkdir(join(root, name, 'allure-results'), { recursive: true });
      await writeFile(join(root, name, 'journal.json'), '{}');
      const when = new Date(Date.UTC(2025, 4, 1, 10, i === 1 ? 30 : i));
      await utimes(join(root, name, 'journal.json'), when, when);
    }
    await mkdir(join(root, 'not-a-run'));
    await writeFile(join(root, 'README.md'), 'reports');
    expect(await findRunDirs(root)).toEqual([join(root, 'run-b'), join(root, 'run-c'), join(root, 'run-a')]);
  });

  it('returns [] when the reports root does not exist', async () => {
    expect(await findRunDirs(join(await scratch(), 'reports'))).toEqual([]);
  });
});
