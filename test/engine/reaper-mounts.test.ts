import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reapRecorded, reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { currentMounts, mountsUnder, unmountUnder } from '../../src/targets/process/mounts.js';

const root = process.getuid?.() === 0;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-reaper-mounts-test-'));
afterAll(async () => {
  await unmountUnder(tmp).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!root)(`reaper and mounts${root ? '' : ' (skipped: mounting needs root)'}`, () => {
  it('never removes a recorded temp dir with something mounted under it; removes it once unmounted', async () => {
    const dir = path.join(tmp, 'drill-dir');
    const mountPoint = path.join(dir, 'a', 'mnt');
    mkdirSync(mountPoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mountPoint]);
    writeFileSync(path.join(mountPoint, 'kept'), 'x');
    const ledgerFile = path.join(tmp, 'resources.jsonl');
    new ResourceLedger(ledgerFile).record({ kind: 'temp-dir', path: dir });

    const first = await reapRecorded(readResources(ledgerFile));
    expect(first.removed).toEqual([]);
    expect(first.left).toEqual([{ what: `dir ${dir}`, reason: expect.stringContaining(mountPoint) }]);
    expect(existsSync(path.join(mountPoint, 'kept'))).toBe(true);

    expect(await unmountUnder(dir)).toEqual([`tmpfs mount ${mountPoint}`]);
    expect(mountsUnder(dir, currentMounts())).toEqual([]);
    expect(await reapResources(ledgerFile)).toEqual([`dir ${dir}`]);
    expect(existsSync(dir)).toBe(false);
  });

  it('unmounts stacked and nested mounts deepest first', async () => {
    const dir = path.join(tmp, 'nested');
    mkdirSync(path.join(dir, 'outer'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'outer')]);
    mkdirSync(path.join(dir, 'outer', 'inner'));
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'outer', 'inner')]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'outer', 'inner')]);
    expect(await unmountUnder(dir)).toEqual([
      `tmpfs mount ${dir}/outer/inner`,
      `tmpfs mount ${dir}/outer/inner`,
      `tmpfs mount ${dir}/outer`,
    ]);
    expect(mountsUnder(dir, currentMounts())).toEqual([]);
  });
});
