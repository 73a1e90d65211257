import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareHarnessBundle } from '../../src/cli/harness-bundle.js';

// In this process's environment before esbuild's service starts (the first build below): it must
// not reach that child's environment, and must still be here afterwards.
const SECRET = `harness-bundle-${process.pid}-not-for-children`;
process.env.DRILL_TEST_API_TOKEN = SECRET;

// A package of its own (src/engine/drill-entry.ts and what it imports), built by the real esbuild
// into its own node_modules/.cache: nothing of the checkout's cache is touched.
const root = mkdtempSync(path.join(os.tmpdir(), 'drill-harness-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const write = (relative: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
  writeFileSync(path.join(root, relative), text);
};
write('src/engine/data.txt', 'found beside its module\n');
write(
  'src/engine/where.ts',
  [
    "import { readFileSync } from 'node:fs';",
    "export const here: string = import.meta.url;",
    "export const data = readFileSync(new URL('./data.txt', import.meta.url), 'utf8').trim();",
    "export const text = 'this string says import.meta.url';",
  ].join('\n'),
);
write('src/engine/lazy.ts', "(globalThis as Record<string, unknown>).lazyLoaded = true;\nexport const lazy = 'loaded when asked';\n");
write(
  'src/engine/drill-entry.ts',
  [
    "export { data, here, text } from './where.js';",
    "export const version: number = 1;",
    "export const loadLazy = async () => (await import('./lazy.js')).lazy;",
  ].join('\n'),
);

interface Fixture {
  here: string;
  data: string;
  text: string;
  version: number;
  loadLazy: () => Promise<string>;
}
const load = async (entry: string) => (await import(`${pathToFileURL(entry).href}?t=${Date.now()}`)) as Fixture;

describe('the prebuilt harness of a drill process', () => {
  it('is one module whose modules keep their own import.meta.url (files beside them are found), and dynamic imports stay lazy', async () => {
    const entry = await prepareHarnessBundle(root, {});
    expect(entry).toBeDefined();
    expect(entry!.startsWith(path.join(root, 'node_modules/.cache/drill/harness/'))).toBe(true);
    const harness = await load(entry!);
    expect(harness.here).toBe(pathToFileURL(path.join(root, 'src/engine/where.ts')).href);
    expect(harness.data).toBe('found beside its module');
    // Replaced as an expression only: text that names it is left alone.
    expect(harness.text).toBe('this string says import.meta.url');
    expect((globalThis as Record<string, unknown>).lazyLoaded).toBeUndefined();
    expect(await harness.loadLazy()).toBe('loaded when asked');
    expect((globalThis as Record<string, unknown>).lazyLoaded).toBe(true);
  });

  it('is reused while its sources are unchanged and built again when one changes (never stale)', async () => {
    const first = await prepareHarnessBundle(root, {});
    const builtAt = statSync(first!).mtimeMs;
    expect(await prepareHarnessBundle(root, {})).toBe(first);
    expect(statSync(first!).mtimeMs).toBe(builtAt);

    write('src/engine/drill-entry.ts', readFileSync(path.join(root, 'src/engine/drill-entry.ts'), 'utf8').replace('version: number = 1', 'version: number = 2'));
    const second = await prepareHarnessBundle(root, {});
    expect(second).not.toBe(first);
    expect((await load(second!)).version).toBe(2);
    // A module the entry imports counts as much as the entry.
    write('src/engine/data.txt', 'still found\n');
    write('src/engine/where.ts', `${readFileSync(path.join(root, 'src/engine/where.ts'), 'utf8')}\nexport const edited = true;\n`);
    expect(await prepareHarnessBundle(root, {})).not.toBe(second);
  });

  it('is never in the way: from source when asked (DRILL_HARNESS_FROM_SOURCE=1) or when it cannot be built or written', async () => {
    expect(await prepareHarnessBundle(root, { DRILL_HARNESS_FROM_SOURCE: '1' })).toBeUndefined();
    const broken = mkdtempSync(path.join(os.tmpdir(), 'drill-harness-broken-'));
    try {
      // No entry to build.
      expect(await prepareHarnessBundle(broken, {})).toBeUndefined();
      // A cache that cannot be a directory (a read-only install behaves the same).
      rmSync(path.join(broken, 'node_modules'), { recursive: true, force: true });
      mkdirSync(path.join(broken, 'src/engine'), { recursive: true });
      writeFileSync(path.join(broken, 'src/engine/drill-entry.ts'), 'export const x = 1;\n');
      mkdirSync(path.join(broken, 'node_modules'));
      writeFileSync(path.join(broken, 'node_modules/.cache'), 'a file, not a directory');
      expect(await prepareHarnessBundle(broken, {})).toBeUndefined();
      // The same package with a cache it can write: built (so the refusal above was the cache's).
      rmSync(path.join(broken, 'node_modules/.cache'));
      expect(await prepareHarnessBundle(broken, {})).toBeDefined();
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it("starts esbuild's service without the user's secrets in its environment, and gives them back to this process", async () => {
    write('src/engine/drill-entry.ts', `${readFileSync(path.join(root, 'src/engine/drill-entry.ts'), 'utf8')}\nexport const again = true;\n`);
    expect(await prepareHarnessBundle(root, {})).toBeDefined();
    const services = readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(process.pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--service');
        } catch {
          return false;
        }
      });
    // The positive control: the service is there to look at.
    expect(services.length).toBeGreaterThan(0);
    for (const pid of services) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).toContain('PATH=');
      expect(environ).not.toContain(SECRET);
    }
    expect(process.env.DRILL_TEST_API_TOKEN).toBe(SECRET);
  });

  it('keeps its cache bounded: a new build removes builds older than a day and all but the 8 newest others', async () => {
    const cache = path.join(root, 'node_modules/.cache/drill/harness');
    const hourAgo = (h: number) => new Date(Date.now() - h * 3600_000);
    for (let i = 0; i < 12; i += 1) {
      mkdirSync(path.join(cache, `old${i}`), { recursive: true });
      // old0..old9 within the day (old0 the newest), old10 and old11 two days old.
      utimesSync(path.join(cache, `old${i}`), hourAgo(i < 10 ? i + 1 : 48), hourAgo(i < 10 ? i + 1 : 48));
    }
    // Another drill run's build in progress is not a build to count or remove; one abandoned two days ago (kill -9) goes.
    mkdirSync(path.join(cache, 'building-1-inprogress'));
    mkdirSync(path.join(cache, 'building-2-abandoned'));
    utimesSync(path.join(cache, 'building-2-abandoned'), hourAgo(48), hourAgo(48));
    write('src/engine/drill-entry.ts', `${readFileSync(path.join(root, 'src/engine/drill-entry.ts'), 'utf8')}\nexport const pruned = true;\n`);
    const entry = await prepareHarnessBundle(root, {});
    const current = path.basename(path.dirname(entry!));
    const left = readdirSync(cache).filter((name) => name !== 'current.json' && name !== current);
    // The earlier tests' builds count among the newest.
    expect(left.filter((name) => !name.startsWith('building-')).length).toBe(8);
    expect(left).toContain('building-1-inprogress');
    expect(left).not.toContain('building-2-abandoned');
    expect(left).not.toContain('old10');
    expect(left).not.toContain('old11');

    // Reused, a build's age starts again: a long game day's build is never the oldest while in use.
    utimesSync(path.dirname(entry!), hourAgo(30), hourAgo(30));
    expect(await prepareHarnessBundle(root, {})).toBe(entry);
    expect(Date.now() - statSync(path.dirname(entry!)).mtimeMs).toBeLessThan(60_000);
  });
});
