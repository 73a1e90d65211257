import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { processState } from '../support/process-state.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { injectRegionOutage } from '../../src/injectors/region-outage.js';
import type { Fault } from '../../src/scenario/schema.js';
import { connectOutcome } from '../../src/targets/network-nft/drop-proof.js';
import { rulesetText } from '../../src/targets/network-nft/nft-ruleset.js';
import { nftProgram, tableHandle } from '../../src/targets/network-nft/nft.js';
import { findPostgresBinaries } from '../../src/targets/postgres/binaries.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';
import { NativeInstance } from '../../src/targets/postgres/native-instance.js';
import { listeningSockets, listenersOfTable, parseProcAddress } from '../../src/targets/process/listening-sockets.js';
import { inRegionRange, regionListeners } from '../../src/targets/regions/region-listeners.js';
import { findRegion, type Region, type RegionSet } from '../../src/targets/regions/types.js';

describe('the drop rule of a lost region names its exact address:port pairs (pure)', () => {
  it('one rule pair per address, each with only its own ports: no range, no other listener\'s port', () => {
    const text = rulesetText({
      table: 'drill_r_4',
      comment: 'drill run r',
      listeners: [
        { address: '127.0.1.1', ports: [40001] },
        { address: '127.0.1.2', ports: [40001] },
        { address: '127.0.1.40', ports: [5433] },
        // A second socket of one process, and a repeat: merged into that address's one rule pair.
        { address: '127.0.1.1', ports: [9100, 40001] },
      ],
      fault: { kind: 'partition' },
    });
    const rules = text.split('\n').filter((l) => l.includes('drop'));
    const loopback = '\t\toif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp';
    expect(rules).toEqual([
      `${loopback} ip daddr 127.0.1.1 tcp dport { 40001, 9100 } counter drop`,
      `${loopback} ip saddr 127.0.1.1 tcp sport { 40001, 9100 } counter drop`,
      `${loopback} ip daddr 127.0.1.2 tcp dport 40001 counter drop`,
      `${loopback} ip saddr 127.0.1.2 tcp sport 40001 counter drop`,
      `${loopback} ip daddr 127.0.1.40 tcp dport 5433 counter drop`,
      `${loopback} ip saddr 127.0.1.40 tcp sport 5433 counter drop`,
    ]);
    // Nothing broader than one address: the only prefix is the loopback guard every rule starts with.
    expect(text.replaceAll('127.0.0.0/8', '')).not.toMatch(/\/\d/);
    expect(text).not.toMatch(/127\.0\.1\.0|127\.0\.1\.\*/);
  });

  it('a region\'s listeners: its processes\' URLs, its PostgreSQL and the sockets they hold in its range; others kept apart', () => {
    const region = {
      name: 'us-west-2',
      range: '127.0.1.0/24',
      processes: { instances: () => [{ name: 'truststream-api-1', url: 'http://127.0.1.1:40001' }, { name: 'truststream-worker-1', url: 'http://127.0.1.21:40001' }] },
      database: { name: 'primary', connection: { host: '127.0.1.40', port: 5433 } },
    } as unknown as Region;
    const sockets = [
      { pid: 10, address: '127.0.1.1', port: 40001 }, // the same as its URL: once
      { pid: 10, address: '127.0.1.1', port: 9100 }, // something it binds that nobody configured
      { pid: 11, address: '0.0.0.0', port: 7000 }, // a wildcard: would hit every drill's 127.x:7000
      { pid: 12, address: '127.0.2.1', port: 40001 }, // the other region's range
    ];
    const { listeners, outside } = regionListeners(region, sockets, new Map([[10, 'truststream-api-1']]));
    expect(listeners).toEqual([
      { address: '127.0.1.1', port: 40001, what: 'truststream-api-1' },
      { address: '127.0.1.21', port: 40001, what: 'truststream-worker-1' },
      { address: '127.0.1.40', port: 5433, what: 'primary (PostgreSQL)' },
      { address: '127.0.1.1', port: 9100, what: 'truststream-api-1' },
    ]);
    expect(outside).toEqual([
      { address: '0.0.0.0', port: 7000, what: 'pid 11' },
      { address: '127.0.2.1', port: 40001, what: 'pid 12' },
    ]);
    expect(inRegionRange('127.0.1.255', '127.0.1.0/24')).toBe(true);
    for (const other of ['127.0.10.1', '127.0.11.1', '127.0.1', '127.1.1.1', 'localhost']) expect(inRegionRange(other, '127.0.1.0/24'), other).toBe(false);
  });

  it('reads /proc/net/tcp addresses and LISTEN sockets', () => {
    expect(parseProcAddress('2801007F:1F90')).toEqual({ address: '127.0.1.40', port: 8080 });
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0101007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0',
      '   1: 0101007F:9C41 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1',
    ].join('\n');
    expect([...listenersOfTable(table)]).toEqual([['111', { address: '127.0.1.1', port: 40001 }]]);
  });

  it('finds the sockets a real process listens on', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.3.7', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      expect(listeningSockets([process.pid])).toContainEqual({ pid: process.pid, address: '127.0.3.7', port });
      expect(listeningSockets([999_999_999])).toEqual([]);
    } finally {
      server.close();
    }
  });
});

// A real region of one process: a child listening on the region's range, frozen or killed by the
// fault, its listener dropped by a real nftables table.
const haveNft = nftProgram() !== undefined && process.getuid?.() === 0;
// Skipped with the reason in its title (the run's summary counts it), never silently.
const NO_NFT = haveNft ? '' : ' (skipped: needs root and nft; npm run setup installs nftables as root)';
const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-region-drop-'));
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child process answering HTTP on host:port, once it listens. */
async function httpChild(host: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer((s) => { s.on('error', () => {}); s.end('HTTP/1.1 200 OK\\r\\n\\r\\n'); }).listen(${port}, '${host}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  return child;
}

const state = processState;

function contextWith(child: ChildProcess, host: string, port: number, ledgerFile: string): { ctx: DrillContext; events: string[] } {
  const database = new NativeInstance({ name: 'primary', dataDir: path.join(dir, 'no-data'), socketDir: dir, logFile: path.join(dir, 'log'), port: 1, password: 'unused', binaries: findPostgresBinaries(), runAs: undefined });
  const region = (name: string, role: 'primary' | 'dr', range: string): Region => ({
    name,
    role,
    range,
    apiAddresses: role === 'primary' ? [host] : [],
    processes: {
      liveInstances: () => (role === 'primary' && child.exitCode === null && child.signalCode === null ? [{ name: 'truststream-api-1', pid: child.pid! }] : []),
      instances: () => (role === 'primary' ? [{ name: 'truststream-api-1', url: `http://${host}:${port}` }] : []),
      kill: async () => [],
      restart: async () => ({}),
    },
    database,
  });
  const primary = region('test-west', 'primary', '127.0.77.0/24');
  const dr = region('test-east', 'dr', '127.0.78.0/24');
  const events: string[] = [];
  const regions = { primary, dr, port, find: (ref: string) => findRegion({ primary, dr }, ref) } as unknown as RegionSet;
  const ctx = { clock: startClock(), regions, runId: `t${process.pid}-${Date.now()}`, ledger: new ResourceLedger(ledgerFile), recorder: { event: (kind: string, message: string) => events.push(`${kind}: ${message}`) } } as unknown as DrillContext;
  return { ctx, events };
}

describe.runIf(haveNft)(`region-outage with network: drop on the real kernel${NO_NFT}`, () => {
  it('blackhole + drop: the region\'s listener times out instead of accepting; the same port elsewhere is untouched; teardown deletes the table', async () => {
    const port = await freeLoopbackPort();
    const child = await httpChild('127.0.77.1', port);
    const bystander = await httpChild('127.0.78.1', port);
    // Negative control of the proof: a frozen process's socket still completes the handshake.
    process.kill(child.pid!, 'SIGSTOP');
    expect(await connectOutcome('127.0.77.1', port, 500)).toBe('connected');
    process.kill(child.pid!, 'SIGCONT');
    const ledgerFile = path.join(dir, 'blackhole.jsonl');
    const { ctx, events } = contextWith(child, '127.0.77.1', port, ledgerFile);
    const handle = await injectRegionOutage(ctx, { type: 'region-outage', region: 'primary', mode: 'blackhole', network: 'drop' } as Extract<Fault, { type: 'region-outage' }>);
    const network = handle.details.network as { nftTable: string; nftHandle: number; listeners: unknown[]; ruleset: string; connects: Record<string, string> };
    const table = network.nftTable.replace(/^inet /, '');
    try {
      expect(state(child.pid!)).toBe('T');
      expect(network.listeners).toEqual([{ address: '127.0.77.1', port, what: 'truststream-api-1' }]);
      expect(network.connects).toEqual({ [`127.0.77.1:${port}`]: 'timed out' });
      expect(readResources(ledgerFile)).toEqual([{ kind: 'nft-table', family: 'inet', name: table, comment: expect.stringMatching(/^drill run /) }]);
      expect(await tableHandle(nftProgram()!, table)).toBe(network.nftHandle);
      expect(await connectOutcome('127.0.77.1', port, 800)).toBe('timed out');
      // Another drill's listener on the same port in another range: still answered.
      expect(await connectOutcome('127.0.78.1', port, 800)).toBe('connected');
      expect(handle.description).toMatch(/dropped by nftables table inet drill_/);
    } finally {
      await handle[Symbol.asyncDispose]();
    }
    expect(await tableHandle(nftProgram()!, table)).toBeUndefined();
    expect(events).toEqual([expect.stringMatching(/^packets-dropped: region test-west: nftables table inet drill_\S+ deleted; the kernel dropped [1-9]\d* packets/)]);
    // Killed at teardown (frozen processes get SIGKILL, then SIGCONT).
    await new Promise((r) => setTimeout(r, 200));
    expect(['Z', 'X', undefined]).toContain(state(child.pid!));
    expect(await connectOutcome('127.0.78.1', port, 800)).toBe('connected');
    bystander.kill('SIGKILL');
  });

  it('kill + drop: without the table a dead listener refuses; with it the connect times out', async () => {
    const port = await freeLoopbackPort();
    const child = await httpChild('127.0.77.2', port);
    // Negative control: a listener nobody holds any more is refused (RST), not silent.
    expect(await connectOutcome('127.0.77.3', port, 500)).toMatch(/^refused \(ECONNREFUSED\)$/);
    const { ctx } = contextWith(child, '127.0.77.2', port, path.join(dir, 'kill.jsonl'));
    // kill() of this fake region SIGKILLs the child, as PlainService.kill does its processes.
    const region = ctx.regions.primary as { processes: { kill: () => Promise<Array<{ name: string; pid: number }>> } };
    region.processes.kill = async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      return [{ name: 'truststream-api-1', pid: child.pid! }];
    };
    const handle = await injectRegionOutage(ctx, { type: 'region-outage', region: 'primary', mode: 'kill', network: 'drop' } as Extract<Fault, { type: 'region-outage' }>);
    const table = (handle.details.network as { nftTable: string }).nftTable.replace(/^inet /, '');
    try {
      expect(child.signalCode).toBe('SIGKILL');
      expect(await connectOutcome('127.0.77.2', port, 800)).toBe('timed out');
      // The freed pair is held by the drill until the table goes: another drill cannot bind it and
      // have its own traffic dropped by this table.
      expect(handle.details.network).toMatchObject({ heldUntilTeardown: [`127.0.77.2:${port}`] });
      const other = net.createServer();
      await expect(new Promise((resolve, reject) => { other.once('error', reject); other.listen({ host: '127.0.77.2', port }, () => resolve('bound')); })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      other.close();
    } finally {
      await handle[Symbol.asyncDispose]();
    }
    expect(await tableHandle(nftProgram()!, table)).toBeUndefined();
    expect(await connectOutcome('127.0.77.2', port, 800)).toMatch(/^refused/);
  });
});

describe.runIf(haveNft)(`the proof that the drop is in effect${NO_NFT}`, () => {
  it('negative control: an nft that creates the table without its drop rules: REGION_DROP_NOT_IN_EFFECT, the table deleted, the frozen process killed', async () => {
    const port = await freeLoopbackPort();
    const child = await httpChild('127.0.77.5', port);
    // A real nft behind a wrapper that loses the rules on the way in: the table exists, drops nothing.
    const wrapper = path.join(dir, 'nft-without-rules');
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "-f" ]; then sed '/counter drop$/d' | ${nftProgram()!} "$@"; else exec ${nftProgram()!} "$@"; fi\n`, { mode: 0o755 });
    const ledgerFile = path.join(dir, 'not-in-effect.jsonl');
    const { ctx } = contextWith(child, '127.0.77.5', port, ledgerFile);
    const saved = process.env.DRILL_NFT;
    process.env.DRILL_NFT = wrapper;
    let error: { code?: string; message?: string } | undefined;
    try {
      error = await injectRegionOutage(ctx, { type: 'region-outage', region: 'primary', mode: 'blackhole', network: 'drop' } as Extract<Fault, { type: 'region-outage' }>).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
    } finally {
      if (saved === undefined) delete process.env.DRILL_NFT;
      else process.env.DRILL_NFT = saved;
    }
    expect(error?.code).toBe('REGION_DROP_NOT_IN_EFFECT');
    // A frozen process's socket completes the handshake: the message names the pair and what the connect did.
    expect(error?.message).toContain(`127.0.77.5:${port} connected`);
    const [recorded] = readResources(ledgerFile);
    expect(recorded).toMatchObject({ kind: 'nft-table', family: 'inet' });
    expect(await tableHandle(nftProgram()!, (recorded as { name: string }).name)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(['Z', 'X', undefined]).toContain(state(child.pid!));
  });
});

describe('region-outage with network: drop on a machine without nft', () => {
  it('exit 3 naming the package, before the region is touched: nothing frozen, no table recorded', async () => {
    const port = await freeLoopbackPort();
    const child = await httpChild('127.0.77.4', port);
    const ledgerFile = path.join(dir, 'no-nft.jsonl');
    const { ctx } = contextWith(child, '127.0.77.4', port, ledgerFile);
    const saved = process.env.DRILL_NFT;
    process.env.DRILL_NFT = '/nonexistent/nft';
    try {
      const error = await injectRegionOutage(ctx, { type: 'region-outage', region: 'primary', mode: 'blackhole', network: 'drop' } as Extract<Fault, { type: 'region-outage' }>).then(
        () => undefined,
        (e: unknown) => e as { kind: string; code: string; message: string },
      );
      expect(error).toMatchObject({ kind: 'environment', code: 'NFTABLES_MISSING' });
      expect(error!.message).toMatch(/^region-outage with network: drop drops packets with nftables, and nft is not installed .*apt-get install nftables/);
    } finally {
      if (saved === undefined) delete process.env.DRILL_NFT;
      else process.env.DRILL_NFT = saved;
    }
    expect(state(child.pid!)).not.toBe('T');
    expect(await connectOutcome('127.0.77.4', port, 800)).toBe('connected');
    expect(readResources(ledgerFile)).toEqual([]);
  });
});
