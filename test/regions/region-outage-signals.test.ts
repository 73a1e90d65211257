import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processState } from '../support/process-state.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ABSENT } from '../../src/engine/reap-outcome.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { injectRegionOutage } from '../../src/injectors/region-outage.js';
import { recordProcess, signalRecorded } from '../../src/injectors/region-processes.js';
import type { Fault } from '../../src/scenario/schema.js';
import { findPostgresBinaries } from '../../src/targets/postgres/binaries.js';
import { reapPostgresDataDir } from '../../src/targets/postgres/reap-data-dir.js';
import { NativeInstance } from '../../src/targets/postgres/native-instance.js';
import { serverPids } from '../../src/targets/postgres/server-signals.js';
import { findRegion, type Region, type RegionSet } from '../../src/targets/regions/types.js';

// Which pids region-outage may signal: real processes (a `sleep` this test starts), checked in
// /proc. The servers' side (a real frozen region, teardown) is in region-databases.test.ts and
// the e2e region drills.

const state = processState;

const alive = (pid: number) => {
  const s = state(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
};

/** Signal delivery is asynchronous: the state the process reaches within a few seconds. */
async function settlesIn(pid: number, wanted: string): Promise<string | undefined> {
  const deadline = Date.now() + 5_000;
  while (state(pid) !== wanted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return state(pid);
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sleeper(cwd?: string): number {
  const child = spawn('sleep', ['300'], { cwd, stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

/** A region whose database is `database` and whose service runs nothing: what region-outage reads of a context. */
function contextWith(database: NativeInstance): DrillContext {
  const region = (name: string, role: 'primary' | 'dr'): Region => ({
    name,
    role,
    range: role === 'primary' ? '127.0.1.0/24' : '127.0.2.0/24',
    apiAddresses: [],
    processes: { liveInstances: () => [], instances: () => [], kill: async () => [], restart: async () => ({}) },
    database,
  });
  const primary = region('test-west', 'primary');
  const dr = region('test-east', 'dr');
  const regions = { primary, dr, find: (ref: string) => findRegion({ primary, dr }, ref) } as unknown as RegionSet;
  return { clock: startClock(), regions } as unknown as DrillContext;
}

describe('region-outage signals only PostgreSQL processes of the region\'s data directory', () => {
  it('a stale postmaster.pid naming a live non-PostgreSQL process working in the data directory: neither frozen nor killed', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-region-signals-'));
    dirs.push(tmp);
    const dataDir = path.join(tmp, 'data');
    mkdirSync(dataDir);
    // The server crashed; its pid now belongs to a program that even works in its directory.
    const stranger = sleeper(dataDir);
    writeFileSync(path.join(dataDir, 'postmaster.pid'), `${stranger}\n${dataDir}\n`);
    const database = new NativeInstance({
      name: 'primary',
      dataDir,
      socketDir: tmp,
      logFile: path.join(tmp, 'log'),
      port: 1,
      password: 'unused',
      binaries: findPostgresBinaries(),
      runAs: undefined,
    });
    expect(database.postmasterPid()).toBe(stranger);
    expect(serverPids(database)).toEqual([]);

    for (const mode of ['blackhole', 'kill'] as const) {
      const fault = { type: 'region-outage', region: 'primary', mode } as Extract<Fault, { type: 'region-outage' }>;
      const handle = await injectRegionOutage(contextWith(database), fault);
      expect(handle.details).toMatchObject({ processes: [] });
      expect(state(stranger), mode).not.toBe('T');
      await handle[Symbol.asyncDispose]();
      expect(alive(stranger), `${mode}, after teardown`).toBe(true);
    }
    // The data-dir reaper reads the same (data-dir-processes.ts): nothing of PostgreSQL left there.
    expect(await reapPostgresDataDir({ kind: 'pg-data-dir', path: dataDir, bindir: findPostgresBinaries().bindir })).toEqual(ABSENT);
    expect(alive(stranger)).toBe(true);
  });
});

describe('NativeInstance.kill and isRunning act on this data directory\'s postmaster only', () => {
  it('a stale postmaster.pid naming another PostgreSQL-named process (another drill\'s server): not running, not killed', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-native-kill-'));
    dirs.push(tmp);
    const dataDir = path.join(tmp, 'data');
    const elsewhere = path.join(tmp, 'other');
    mkdirSync(dataDir);
    mkdirSync(elsewhere);
    // A process whose name is postgres (what the kernel's stat shows), working in another directory.
    const binary = path.join(tmp, 'postgres');
    copyFileSync('/bin/sleep', binary);
    const child = spawn(binary, ['300'], { cwd: elsewhere, stdio: 'ignore' });
    children.push(child);
    const other = child.pid!;
    await settlesIn(other, 'S');
    writeFileSync(path.join(dataDir, 'postmaster.pid'), `${other}\n${dataDir}\n`);
    const database = new NativeInstance({ name: 'primary', dataDir, socketDir: tmp, logFile: path.join(tmp, 'log'), port: 1, password: 'unused', binaries: findPostgresBinaries(), runAs: undefined });
    expect(readFileSync(`/proc/${other}/stat`, 'utf8')).toContain('(postgres)');
    expect(await database.isRunning()).toBe(false);
    await database.kill();
    expect(alive(other)).toBe(true);
  });
});

describe('a recorded process is signalled only while it is still the process recorded', () => {
  it('a record whose start time is not the running process\'s is not signalled; the right one is', async () => {
    const pid = sleeper();
    const recorded = recordProcess('truststream-api-1', pid, false);
    expect(recorded.startTime).toBeDefined();
    // As the record of a process that died, its pid now someone else's: a different start time.
    const [boot, ticks] = recorded.startTime!.split(':');
    const earlier = { ...recorded, startTime: `${boot}:${Number(ticks) - 1}` };
    expect(signalRecorded([earlier], 'SIGKILL')).toEqual([]);
    expect(alive(pid)).toBe(true);
    // A record from before a reboot: another boot id.
    expect(signalRecorded([{ ...recorded, startTime: `another-boot:${ticks}` }], 'SIGKILL')).toEqual([]);
    expect(alive(pid)).toBe(true);
    // Gone when recorded: nothing to match.
    expect(signalRecorded([{ ...recorded, startTime: undefined }], 'SIGKILL')).toEqual([]);
    expect(alive(pid)).toBe(true);

    // Positive control: the record made of this process reaches it.
    expect(signalRecorded([recorded], 'SIGSTOP')).toEqual([recorded]);
    expect(await settlesIn(pid, 'T')).toBe('T');
    expect(signalRecorded([recorded], 'SIGCONT')).toEqual([recorded]);
  });

  it('a database process must still be PostgreSQL: the right start time on another program is not enough', () => {
    const pid = sleeper();
    const recorded = recordProcess('primary backend', pid, true);
    expect(recorded.startTime).toBeDefined();
    expect(signalRecorded([recorded], 'SIGKILL')).toEqual([]);
    expect(alive(pid)).toBe(true);
  });
});
