import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IN_USE_MS, staleCacheItems } from '../../src/targets/images/prune-archives.js';
import { pruneModuleInstalls } from '../../src/targets/images/prune-module-installs.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-prune-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const now = 1_800_000_000_000;
const minutesAgo = (m: number) => now - m * 60_000;

describe('which cached items are pruned', () => {
  it('all but the `keep` most recently used, never one used in the last ten minutes', () => {
    const items = [90, 5, 60, 30, 120].map((m) => ({ path: `used-${m}-min-ago`, usedMs: minutesAgo(m) }));
    expect(staleCacheItems(items, 2, now).map((i) => i.path)).toEqual(['used-60-min-ago', 'used-90-min-ago', 'used-120-min-ago']);
    expect(staleCacheItems(items, 1, now).map((i) => i.path)).toEqual(['used-30-min-ago', 'used-60-min-ago', 'used-90-min-ago', 'used-120-min-ago']);
    // Negative control: past the limit but used within ten minutes, nothing goes.
    const recent = [1, 2, 9].map((m) => ({ path: `used-${m}-min-ago`, usedMs: minutesAgo(m) }));
    expect(staleCacheItems(recent, 1, now)).toEqual([]);
    expect(staleCacheItems([{ path: 'edge', usedMs: now - IN_USE_MS }], 0, now)).toEqual([]);
    expect(staleCacheItems(items, 5, now)).toEqual([]);
  });
});

describe('pruning node_modules installs', () => {
  it('removes the older installs with the layer each one built, keeps the newest two, a recent temp install and other layers', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const setTime = (p: string, ms: number) => utimesSync(p, new Date(ms), new Date(ms));
    const installs = [200, 100, 50, 20].map((m, i) => {
      const digest = String(i).repeat(32);
      const dir = path.join(cacheDir, 'node-modules', digest);
      mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
      const key = `${'ab'.repeat(31)}${i}${i}`;
      writeFileSync(path.join(dir, 'layer.json'), JSON.stringify({ key }));
      mkdirSync(path.join(cacheDir, 'layers'), { recursive: true });
      for (const ext of ['tar', 'json']) writeFileSync(path.join(cacheDir, 'layers', `${key}.${ext}`), '');
      setTime(path.join(dir, 'layer.json'), minutesAgo(m));
      return { dir, key };
    });
    const recentTemp = path.join(cacheDir, 'node-modules', `${'9'.repeat(32)}.tmp-123-abcd`);
    const oldTemp = path.join(cacheDir, 'node-modules', `${'8'.repeat(32)}.tmp-456-abcd`);
    for (const [dir, m] of [[recentTemp, 30], [oldTemp, 120]] as const) {
      mkdirSync(dir, { recursive: true });
      setTime(dir, minutesAgo(m));
    }
    const otherLayer = path.join(cacheDir, 'layers', `${'cd'.repeat(32)}.tar`);
    writeFileSync(otherLayer, '');

    expect(await pruneModuleInstalls(cacheDir, 2, now)).toEqual([installs[1]!.dir, installs[0]!.dir, oldTemp]);
    expect(readdirSync(path.join(cacheDir, 'node-modules')).sort()).toEqual([path.basename(installs[2]!.dir), path.basename(installs[3]!.dir), path.basename(recentTemp)].sort());
    for (const { key } of installs.slice(0, 2)) expect(existsSync(path.join(cacheDir, 'layers', `${key}.tar`))).toBe(false);
    for (const { key } of installs.slice(2)) expect(existsSync(path.join(cacheDir, 'layers', `${key}.tar`))).toBe(true);
    expect(existsSync(otherLayer)).toBe(true);
  });
});
