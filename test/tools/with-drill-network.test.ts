import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listRunLedgers } from '../../src/engine/run-ledger.js';
import { ROOT } from '../e2e/helpers.js';

// The wrapper `npm test` runs under gives the suite a temp dir of its own (its TMPDIR), recorded in the run
// ledger, so that directories tests make with mkdtemp are reaped even after a kill -9.
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-wrapper-runs-'));
afterAll(() => rmSync(runs, { recursive: true, force: true }));

// What the command sees while it runs: its test temp dir, that directory's mode, and whether the ledger
// holds it at that moment.
const PROBE = `
const fs = require('node:fs'); const path = require('node:path');
const dir = process.env.DRILL_TEST_TMPDIR; const runs = process.env.DRILL_RUNS_DIR;
const recorded = fs.readdirSync(runs).some((f) => fs.readFileSync(path.join(runs, f), 'utf8').includes(JSON.stringify(dir)));
fs.writeFileSync(path.join(dir, 'left-by-a-test'), 'x');
console.log(JSON.stringify({ dir, mode: fs.statSync(dir).mode & 0o7777, recorded }));
`;

describe('tools/with-drill-network.ts', () => {
  it('under npm test, the TMPDIR of the main project is the wrapper\'s test temp dir (vitest.config.ts)', (ctx) => {
    if (process.env.DRILL_TEST_TMPDIR === undefined) ctx.skip();
    expect(os.tmpdir()).toBe(process.env.DRILL_TEST_TMPDIR);
  });

  it('runs the command with a test temp dir of its own, in the ledger while it runs, removed after', () => {
    const result = spawnSync('npx', ['tsx', 'tools/with-drill-network.ts', '--', process.execPath, '-e', PROBE], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DRILL_RUNS_DIR: runs },
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { dir: string; mode: number; recorded: boolean };
    expect(path.basename(seen.dir)).toMatch(/^drill-t[0-9a-f]{8}$/);
    expect(seen.dir).not.toBe(os.tmpdir());
    // Sticky and world-writable: the postgres user creates clusters inside it.
    expect(seen.mode).toBe(0o1777);
    if (process.getuid?.() === 0) expect(seen.recorded).toBe(true);
    expect(existsSync(seen.dir)).toBe(false);
    if (process.getuid?.() === 0) expect(listRunLedgers(runs)).toEqual([]);
    expect(readdirSync(runs).filter((f) => statSync(path.join(runs, f)).isFile())).toEqual([]);
  });
});
