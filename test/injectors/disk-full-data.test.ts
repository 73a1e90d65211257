import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { injectDiskFull } from '../../src/injectors/disk-full.js';
import { freeSpace } from '../../src/recovery/free-space.js';
import { currentMounts } from '../../src/targets/process/mounts.js';
import { drillDatabase, queryError, sql, type DrillDatabase } from './helpers.js';

// disk-full on the data volume against a real native PostgreSQL whose data directory is a tmpfs.
const root = process.getuid?.() === 0;
const MIB = 1024 * 1024;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-disk-full-data-test-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
let db: DrillDatabase;
beforeAll(async () => {
  if (root) db = await drillDatabase(`disk-full-data-${Date.now()}`, { accounts: 20, transfers: 200 }, { dataVolume: { sizeBytes: 64 * MIB }, ledger: new ResourceLedger(ledgerFile) });
});
afterAll(async () => {
  await db?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const step = <T>(s: T) => ({ timeout: 60_000, restoresService: false, ...s });
const COULD_NOT_EXTEND = /could not extend file "base\/\d+\/\d+": No space left on device/;

describe.skipIf(!root)(`disk-full on a real data volume${root ? '' : ' (skipped: mounting needs root)'}`, () => {
  it('writes that need a page fail with ERROR "could not extend file", the server stays up and reads go on; freeing space lets writes in again', async () => {
    const instance = db.deployment.primary;
    const volume = instance.dataVolume!;
    expect(volume.path).toBe(instance.dataDir);
    const mount = readResources(ledgerFile).find((r) => r.kind === 'mount');
    expect(mount).toEqual({ kind: 'mount', path: instance.dataDir, source: expect.stringMatching(/^drill-.*-data$/) });
    // WAL is not on the data volume.
    expect((await sql<{ d: string }>(instance, "select setting as d from pg_settings where name = 'data_directory'"))[0]!.d).toBe(instance.dataDir);

    const before = db.ctx.clock.now();
    const handle = await injectDiskFull(db.ctx, { type: 'disk-full', volume: 'data', failWithin: 30_000 });
    expect(handle.inEffectAt).toBeGreaterThanOrEqual(before);
    expect(handle.inEffectAt).toBeLessThanOrEqual(handle.details!.firstFailedWriteAt as number);
    // At most the page or two the injector's temporary table held, freed as its session ended.
    expect(handle.details!.freeBytesAfter).toBeLessThanOrEqual(64 * 1024);
    expect(handle.details).toMatchObject({ volumeName: 'data', serverStopped: false, firstFailedWrite: expect.stringMatching(/could not extend file .*No space left on device/) });
    expect(handle.details!.serverLog).toMatch(/^ERROR: +could not extend file .*No space left on device/);
    expect(await instance.isRunning()).toBe(true);

    // A table that needs new pages cannot get them; reads work.
    const bulk = "insert into transfers (id, from_account, to_account, amount, created_at, reference) select 2000000000 + g, 1, 2, 1, now(), 'fill-' || g from generate_series(1, 5000) g";
    expect(await queryError(instance, bulk)).toMatch(COULD_NOT_EXTEND);
    expect(await sql(instance, 'select count(*) from transfers')).toEqual([{ count: '200' }]);

    const freed = await freeSpace(db.ctx, step({ step: 'free-space' as const, volume: 'data' as const, how: 'remove-filler' as const }));
    expect(freed).toMatchObject({ volumeName: 'data', freedBytes: handle.details!.fillerBytes });
    expect(await queryError(instance, bulk)).toBeUndefined();
    await handle[Symbol.asyncDispose]();
    await db.dispose();
    expect(currentMounts().some((m) => m.path === volume.path)).toBe(false);
  });

  it('without a data volume of the drill\'s, the fault and the step stop with exit 3 and say what to add', async () => {
    const bare = { ...db.ctx, router: { current: { name: 'elsewhere' } } } as unknown as DrillContext;
    await expect(injectDiskFull(bare, { type: 'disk-full', volume: 'data', failWithin: 1000 })).rejects.toMatchObject({ code: 'DISK_VOLUME_MISSING', kind: 'environment', message: expect.stringMatching(/add targets\.postgres\.dataVolume/) });
    await expect(freeSpace(bare, step({ step: 'free-space' as const, volume: 'data' as const, how: 'remove-filler' as const }))).rejects.toMatchObject({ code: 'DISK_VOLUME_MISSING', message: expect.stringMatching(/dataVolume/) });
  });
});
