import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { injectDiskFull } from '../../src/injectors/disk-full.js';
import { freeSpace } from '../../src/recovery/free-space.js';
import { pgRestart } from '../../src/recovery/pg-restart.js';
import { currentMounts } from '../../src/targets/process/mounts.js';
import { drillDatabase, type DrillDatabase } from './helpers.js';

// The disk-full fault and its steps against a real native PostgreSQL whose pg_wal is on a tmpfs.
const root = process.getuid?.() === 0;
const MIB = 1024 * 1024;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-disk-full-test-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
let db: DrillDatabase;
beforeAll(async () => {
  if (root) db = await drillDatabase(`disk-full-${Date.now()}`, { accounts: 20, transfers: 200 }, { walVolume: { sizeBytes: 16 * MIB }, ledger: new ResourceLedger(ledgerFile) });
});
afterAll(async () => {
  await db?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const step = <T>(s: T) => ({ timeout: 60_000, restoresService: false, ...s });

describe.skipIf(!root)(`disk-full on a real WAL volume${root ? '' : ' (skipped: mounting needs root)'}`, () => {
  it('PostgreSQL PANICs and shuts down; grown volume, restart; a second restart of a running server', async () => {
    const volume = db.deployment.primary.walVolume!;
    const mount = readResources(ledgerFile).find((r) => r.kind === 'mount');
    expect(mount).toEqual({ kind: 'mount', path: volume.path, source: expect.stringMatching(/^drill-.*-wal$/) });

    const before = db.ctx.clock.now();
    const handle = await injectDiskFull(db.ctx, { type: 'disk-full', volume: 'wal', failWithin: 30_000 });
    expect(handle.inEffectAt).toBeGreaterThan(before);
    expect(handle.inEffectAt).toBeLessThan(db.ctx.clock.now());
    expect(handle.details).toMatchObject({ serverStopped: true, freeBytesAfter: 0, serverLog: expect.stringMatching(/^PANIC: .*No space left on device/) });
    expect(await db.deployment.primary.isRunning()).toBe(false);

    // Grown rather than emptied: the filler stays until the handle goes.
    const grown = await freeSpace(db.ctx, step({ step: 'free-space' as const, volume: 'wal' as const, how: 'grow' as const, growToMiB: 32 }));
    expect(grown).toMatchObject({ how: 'grow', freedBytes: 0, sizeBytes: 32 * MIB });
    expect(await pgRestart(db.ctx)).toMatchObject({ wasRunning: false, acceptsWrites: true });
    expect(await pgRestart(db.ctx)).toMatchObject({ wasRunning: true, acceptsWrites: true });

    // A volume cannot shrink by growing.
    await expect(freeSpace(db.ctx, step({ step: 'free-space' as const, volume: 'wal' as const, how: 'grow' as const, growToMiB: 16 }))).rejects.toMatchObject({ code: 'VOLUME_NOT_GROWN' });

    await handle[Symbol.asyncDispose]();
    expect(volume.removeFiller()).toBe(0);
    await db.dispose();
    expect(currentMounts().some((m) => m.path === volume.path)).toBe(false);
  });

  it('without a volume of the drill\'s, the fault and the step stop with exit 3 and say what to add', async () => {
    const bare = { ...db.ctx, router: { current: { name: 'elsewhere' } } } as unknown as DrillContext;
    await expect(injectDiskFull(bare, { type: 'disk-full', volume: 'wal', failWithin: 1000 })).rejects.toMatchObject({ code: 'DISK_VOLUME_MISSING', kind: 'environment', message: expect.stringMatching(/add targets\.postgres\.walVolume/) });
    await expect(freeSpace(bare, step({ step: 'free-space' as const, volume: 'wal' as const, how: 'remove-filler' as const }))).rejects.toMatchObject({ code: 'DISK_VOLUME_MISSING' });
  });
});
