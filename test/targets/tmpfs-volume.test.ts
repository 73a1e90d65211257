import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { reapRecorded } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { currentMounts } from '../../src/targets/process/mounts.js';
import { reapMount } from '../../src/targets/process/reap-mount.js';
import { TmpfsVolume } from '../../src/targets/process/tmpfs-volume.js';

const root = process.getuid?.() === 0;
const MIB = 1024 * 1024;
// Named drill-… like every drill temp dir: the reaper refuses paths outside one.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-tmpfs-volume-test-'));
const mountedHere = () => currentMounts().filter((m) => m.path.startsWith(`${tmp}/`));
afterAll(() => {
  // Only what this file mounted, under its own directory.
  for (const m of mountedHere().reverse()) execFileSync('umount', ['--lazy', m.path]);
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!root)(`tmpfs volume and its reaper${root ? '' : ' (skipped: mounting needs root)'}`, () => {
  it('fills to ENOSPC, frees by removing the filler or growing, and is unmounted by the reaper from the ledger', async () => {
    const ledgerFile = path.join(tmp, 'resources.jsonl');
    const volume = await TmpfsVolume.create({ path: path.join(tmp, 'wal'), sizeBytes: 8 * MIB, source: 'drill-test-wal', ledger: new ResourceLedger(ledgerFile) });
    expect(readResources(ledgerFile)).toEqual([{ kind: 'mount', path: volume.path, source: 'drill-test-wal' }]);
    expect(volume.usage().sizeBytes).toBe(8 * MIB);
    writeFileSync(path.join(volume.path, 'segment'), Buffer.alloc(MIB));

    // Filled in chunks that leave the event loop free (probes and canary go on meanwhile): the loop
    // turns while the filler is part written, which a blocking loop of writes never lets it do.
    const sizesSeen: number[] = [];
    let filling = true;
    const turn = () => {
      if (existsSync(volume.fillerPath)) sizesSeen.push(statSync(volume.fillerPath).size);
      if (filling) setImmediate(turn);
    };
    setImmediate(turn);
    const { bytes } = await volume.fill().finally(() => (filling = false));
    expect(bytes).toBeGreaterThan(6 * MIB);
    expect(sizesSeen.some((size) => size > 0 && size < bytes)).toBe(true);
    expect(volume.usage().freeBytes).toBe(0);
    // What PostgreSQL meets: the next write has nowhere to go.
    expect(() => writeFileSync(path.join(volume.path, 'next'), Buffer.alloc(64 * 1024))).toThrow(/ENOSPC/);

    expect(volume.removeFiller()).toBe(bytes);
    expect(volume.usage().freeBytes).toBeGreaterThan(6 * MIB);
    expect(volume.removeFiller()).toBe(0);
    await volume.grow(16 * MIB);
    expect(volume.usage().sizeBytes).toBe(16 * MIB);
    expect(existsSync(path.join(volume.path, 'segment'))).toBe(true);

    // After a kill -9 the ledger is all there is.
    const reaped = await reapRecorded(readResources(ledgerFile));
    expect(reaped.removed).toEqual([`tmpfs mount ${volume.path}`]);
    expect(volume.mounted()).toBe(false);
    expect(await reapMount({ kind: 'mount', path: volume.path, source: 'drill-test-wal' })).toEqual({ state: 'absent' });
  });

  it('neither fills nor grows once it is not mounted there any more (DISK_VOLUME_GONE), and writes nothing', async () => {
    const volume = await TmpfsVolume.create({ path: path.join(tmp, 'gone'), sizeBytes: 8 * MIB, source: 'drill-test-gone', ledger: new ResourceLedger(undefined) });
    execFileSync('umount', [volume.path]);
    // What lies under the path now stands for the machine's own file system: a small tmpfs that is
    // not the drill's, so that a fill that wrongly goes ahead fills 1 MiB and not the root file system.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'someone-else', volume.path]);
    try {
      expect(volume.mounted()).toBe(false);
      const gone = { code: 'DISK_VOLUME_GONE', kind: 'environment', message: expect.stringMatching(/no longer mounted at .*gone.*find out what unmounted it/) };
      await expect(volume.fill()).rejects.toMatchObject(gone);
      expect(readdirSync(volume.path)).toEqual([]);
      await expect(volume.grow(16 * MIB)).rejects.toMatchObject(gone);
      expect(statfsSync(volume.path).blocks * statfsSync(volume.path).bsize).toBe(MIB);
    } finally {
      execFileSync('umount', [volume.path]);
    }
  });

  it('never unmounts a file system it did not mount: another source, or a path outside a drill directory', async () => {
    const other = path.join(tmp, 'not-ours');
    mkdirSync(other);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'someone-else', other]);
    // Same path, another source: not the drill's mount.
    expect(await reapMount({ kind: 'mount', path: other, source: 'drill-test-other' })).toEqual({ state: 'absent' });
    // A hand-edited ledger naming the source: refused, not unmounted.
    expect(await reapMount({ kind: 'mount', path: other, source: 'someone-else' })).toMatchObject({ state: 'left', reason: expect.stringMatching(/not a drill volume/) });
    expect(currentMounts().some((m) => m.path === other && m.source === 'someone-else')).toBe(true);
    execFileSync('umount', [other]);
  });
});

describe('tmpfs volume without root', () => {
  it('stops with exit 3 MOUNT_NEEDS_ROOT, saying what to do, before creating or recording anything', async () => {
    // The one edge not reachable for real in a suite that runs as root: mount(2) needs root.
    const getuid = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      const ledgerFile = path.join(tmp, 'not-root.jsonl');
      const where = path.join(tmp, 'not-root');
      await expect(TmpfsVolume.create({ path: where, sizeBytes: 8 * MIB, source: 'drill-test-x', ledger: new ResourceLedger(ledgerFile) })).rejects.toMatchObject({
        code: 'MOUNT_NEEDS_ROOT',
        kind: 'environment',
        message: expect.stringMatching(/needs root; run the drill as root/),
      });
      expect(existsSync(where)).toBe(false);
      expect(readResources(ledgerFile)).toEqual([]);
    } finally {
      getuid.mockRestore();
    }
  });
});
