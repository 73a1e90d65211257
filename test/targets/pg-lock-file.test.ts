import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { readLockFile, startedAndReady, stopped } from '../../src/targets/postgres/lock-file.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { NativeInstance } from '../../src/targets/postgres/native-instance.js';
import { soonerThanPgCtl } from '../../src/targets/postgres/sooner-than-pg-ctl.js';
import { runCommand } from '../../src/targets/process/run-command.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'drill-lockfile-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A lock file as PostgreSQL 15 writes it (8 lines; the status padded to 8 characters). */
function writeLock(dir: string, pid: number, startedAtSeconds: number, status: string): void {
  writeFileSync(path.join(dir, 'postmaster.pid'), [pid, dir, startedAtSeconds, 5432, '/tmp', '127.0.0.1', '0 0', status.padEnd(8)].join('\n') + '\n');
}

describe('the lock file read as pg_ctl reads it', () => {
  it('takes neither a stale "ready" (the pid named before the start) nor a dead pid for a started server', () => {
    const now = Date.now();
    // This vitest worker is alive but no PostgreSQL: a recycled pid is not a server.
    writeLock(scratch, process.pid, Math.floor(now / 1000), 'ready');
    expect(readLockFile(scratch)).toEqual({ pid: process.pid, startedAtSeconds: Math.floor(now / 1000), status: 'ready' });
    expect(startedAndReady(scratch, now, process.pid)).toBe(false);
    expect(startedAndReady(scratch, now, undefined)).toBe(false);
    expect(stopped(scratch)).toBe(false);
    writeLock(scratch, 2 ** 22 + 1, Math.floor(now / 1000), 'ready');
    expect(stopped(scratch)).toBe(true);
    rmSync(path.join(scratch, 'postmaster.pid'));
    expect(readLockFile(scratch)).toBeUndefined();
    expect(stopped(scratch)).toBe(true);
  });
});

describe('soonerThanPgCtl (a real child process stands for pg_ctl)', () => {
  it('settles once the condition holds, ending the command it no longer waits for', async () => {
    let reached = false;
    let sleeping: number[] = [];
    setTimeout(() => {
      sleeping = childrenNamed('sleep');
      reached = true;
    }, 200);
    await soonerThanPgCtl((signal) => runCommand('sleep', ['30'], { signal }), () => reached, 'test');
    // The 30 s sleep was running, and was ended rather than left behind.
    expect(sleeping).toHaveLength(1);
    expect(childrenNamed('sleep')).toEqual([]);
  });

  it('fails with the command when it fails before the condition holds', async () => {
    await expect(soonerThanPgCtl((signal) => runCommand('sh', ['-c', 'exit 3'], { signal }), () => false, 'test')).rejects.toThrow(/exit code 3/);
  });

  it('waits for the command when the condition never holds', async () => {
    let commandEnded = false;
    await soonerThanPgCtl((signal) => runCommand('sleep', ['0.2'], { signal }).finally(() => (commandEnded = true)), () => false, 'test');
    expect(commandEnded).toBe(true);
  });

  it('does not throw the failure of a command ended once the condition held', async () => {
    await soonerThanPgCtl((signal) => runCommand('sh', ['-c', 'exec sleep 30'], { signal }), () => true, 'test');
    expect(childrenNamed('sleep')).toEqual([]);
  });
});

/** Live children of this process with that command name (from /proc). */
function childrenNamed(comm: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.includes(`(${comm})`) && Number(after[1]) === process.pid && after[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('a native server started and stopped without waiting for pg_ctl (real PostgreSQL)', () => {
  let deployment: NativeDeployment | undefined;
  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'test-lockfile', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
  });
  afterAll(async () => {
    await deployment?.dispose();
  });

  it('has stopped when stop() returns, and serves the moment start() returns', async () => {
    const primary = deployment!.primary as NativeInstance;
    for (let round = 0; round < 3; round++) {
      await primary.stop();
      expect(stopped(primary.dataDir)).toBe(true);
      expect(await refused(primary.connection.port)).toBe(true);
      await primary.start();
      // No retry: the first session after start() must be served.
      expect(await withClient(primary.connection, async (c) => (await c.query<{ one: number }>('select 1 as one')).rows[0]!.one)).toBe(1);
    }
    await primary.stopImmediately();
    expect(stopped(primary.dataDir)).toBe(true);
    await primary.start();
    expect(readLockFile(primary.dataDir)?.status).toBe('ready');
  });

  it('still fails a start PostgreSQL refuses, with its log', async () => {
    const primary = deployment!.primary as NativeInstance;
    await primary.stop();
    await primary.writeSettings({ shared_buffers: 'nonsense' });
    await expect(primary.start()).rejects.toMatchObject({ code: 'PG_START_FAILED', message: expect.stringMatching(/shared_buffers/) });
    expect(stopped(primary.dataDir)).toBe(true);
    await primary.writeSettings({ shared_buffers: '16MB' });
    await primary.start();
  });
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
