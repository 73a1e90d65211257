import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { injectDiskFull } from '../../src/injectors/disk-full.js';
import { WAL_PER_WRITE } from '../../src/injectors/wal-until-full.js';
import { fixArchiving } from '../../src/recovery/fix-archiving.js';
import { freeSpace } from '../../src/recovery/free-space.js';
import { pgRestart } from '../../src/recovery/pg-restart.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { currentMounts } from '../../src/targets/process/mounts.js';
import type { SizedVolume } from '../../src/targets/process/tmpfs-volume.js';
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
    // Never later than the onset: before the first write that failed began.
    expect(handle.inEffectAt).toBeLessThan(handle.details!.firstFailedWriteAt as number);
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

  it('a write that fails while the filler is written (the canary\'s): T_fault is no later than its start', async () => {
    const other = await drillDatabase(`disk-full-onset-${Date.now()}`, { accounts: 20, transfers: 200 }, { walVolume: { sizeBytes: 16 * MIB }, ledger: new ResourceLedger(path.join(tmp, 'onset.jsonl')) });
    try {
      const instance = other.deployment.primary;
      const real = instance.walVolume!;
      const emit = () => withClient(instance.connection, (c) => c.query('select pg_logical_emit_message(true, $1, repeat($2, $3))', ['test-canary', 'x', WAL_PER_WRITE]), 10_000);
      // Another client (the canary in a drill) writes on as the volume fills and meets the full
      // disk before fill() returns: the server PANICs and the injector's first write fails too.
      let canaryFailedAt: number | undefined;
      const volume: SizedVolume = {
        path: real.path,
        usage: () => real.usage(),
        removeFiller: () => real.removeFiller(),
        grow: (size) => real.grow(size),
        async fill() {
          const filled = await real.fill();
          const until = Date.now() + 30_000;
          while (canaryFailedAt === undefined && Date.now() < until) {
            const started = other.ctx.clock.now();
            await emit().catch(() => (canaryFailedAt = started));
          }
          return filled;
        },
      };
      const withVolume = new Proxy(instance, {
        get: (target, key) => {
          if (key === 'walVolume') return volume;
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      }) as PgInstance;
      const ctx = { ...other.ctx, router: { current: withVolume } } as unknown as DrillContext;

      const before = ctx.clock.now();
      const handle = await injectDiskFull(ctx, { type: 'disk-full', volume: 'wal', failWithin: 30_000 });
      expect(canaryFailedAt).toBeDefined();
      expect(handle.details).toMatchObject({ writesBeforeFailure: 0, serverStopped: true });
      expect(handle.inEffectAt).toBeGreaterThanOrEqual(before);
      expect(handle.inEffectAt).toBeLessThanOrEqual(canaryFailedAt!);
      await handle[Symbol.asyncDispose]();
    } finally {
      await other.dispose();
    }
  });

  it('fix-archiving touches archive_command only on a drill target (exit 2 NOT_A_DRILL_TARGET)', async () => {
    const other = await drillDatabase(`fix-archiving-target-${Date.now()}`, { accounts: 5, transfers: 10 });
    try {
      const instance = other.deployment.primary;
      const admin = <T>(sql: string) => withClient({ ...instance.connection, database: 'postgres' }, async (c) => (await c.query(sql)).rows as T[]);
      // The setting of a server's owner, which a RESET would discard.
      await admin("alter system set archive_command = '/bin/true # the owner''s'");
      await admin('select pg_reload_conf()');
      const external = { ...other.ctx, pg: { provider: 'external', drillTarget: false } } as unknown as DrillContext;
      await expect(fixArchiving(external, step({ step: 'fix-archiving' as const, archiveWithin: 5_000 }))).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET', kind: 'input', message: expect.stringMatching(/^fix-archiving .* is destructive/) });
      expect(await admin<{ archive_command: string }>('show archive_command')).toEqual([{ archive_command: "/bin/true # the owner's" }]);
    } finally {
      await other.dispose();
    }
  });

  it('without a volume of the drill\'s, the fault and the step stop with exit 3 and say what to add', async () => {
    const bare = { ...db.ctx, router: { current: { name: 'elsewhere' } } } as unknown as DrillContext;
    await expect(injectDiskFull(bare, { type: 'disk-full', volume: 'wal', failWithin: 1000 })).rejects.toMatchObject({ code: 'DISK_VOLUME_MISSING', kind: 'environment', message: expect.stringMatching(/add targets\.postgres\.walVolume/) });
    await expect(freeSpace(bare, step({ step: 'free-space' as const, volume: 'wal' as const, how: 'remove-filler' as const }))).rejects.toMatchObject({ code: 'DISK_VOLUME_MISSING' });
  });
});
