import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { reaperFor } from '../../src/engine/reapers.js';
import { isDrillTableName, rulesetText, tableName } from '../../src/targets/network-nft/nft-ruleset.js';
import { nftProgram, requireNft, runNft, tableHandle } from '../../src/targets/network-nft/nft.js';
import { NftPacketFilter } from '../../src/targets/network-nft/packet-filter.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';

describe('nftables ruleset of a packet fault (pure)', () => {
  it('drops only loopback TCP to and from the link ports, in a drill-owned inet table', () => {
    const text = rulesetText({ table: 'drill_20261202T101025Z_net_1', listeners: [{ address: '127.0.0.1', ports: [40123] }], fault: { kind: 'loss', percent: 30 } });
    expect(text).toBe(
      [
        'table inet drill_20261202T101025Z_net_1 {',
        '\tchain output {',
        '\t\ttype filter hook output priority filter; policy accept;',
        '\t\toif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp ip daddr 127.0.0.1 tcp dport 40123 numgen random mod 100 < 30 counter drop',
        '\t\toif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp ip saddr 127.0.0.1 tcp sport 40123 numgen random mod 100 < 30 counter drop',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    const partition = rulesetText({ table: 'drill_r_2', listeners: [{ address: '127.0.0.1', ports: [5432, 40123] }], fault: { kind: 'partition' } });
    expect(partition).toContain('tcp dport { 5432, 40123 } counter drop');
    expect(partition).toContain('tcp sport { 5432, 40123 } counter drop');
    expect(partition).not.toContain('numgen');
    // Every rule is loopback-only; nothing else is matched or changed (policy accept).
    for (const rule of partition.split('\n').filter((l) => l.includes('drop'))) expect(rule).toMatch(/^\t\toif "lo" ip saddr 127\.0\.0\.0\/8 ip daddr 127\.0\.0\.0\/8 /);
    expect(rulesetText({ table: 'drill_r_3', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'loss', percent: 100 } })).toContain('tcp dport 1 counter drop');
  });

  it('names tables per run and per fault, and recognises only its own names', () => {
    expect(tableName('20261202T101025Z-net-loss.2', 3)).toBe('drill_20261202T101025Z_net_loss_2_3');
    expect(isDrillTableName(tableName('x-y', 1))).toBe(true);
    for (const other of ['filter', 'nat', 'drill_', 'drill_x', 'docker_1', 'drill_x_1; flush ruleset', 'DRILL_x_1']) expect(isDrillTableName(other), other).toBe(false);
  });

  it('refuses bad input with a code and what is wrong', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return `${(error as { code: string }).code}: ${(error as Error).message}`;
      }
      return 'no error';
    };
    expect(bad(() => rulesetText({ table: 'filter', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_TABLE_NAME: .*not a drill table name/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', listeners: [{ address: '127.0.0.1', ports: [] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_NO_PORT/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', listeners: [{ address: '127.0.0.1', ports: [70000] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_BAD_PORT: TCP port 70000/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'loss', percent: 0 } }))).toMatch(/^NFT_BAD_PERCENT/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'loss', percent: 2.5 } }))).toMatch(/^NFT_BAD_PERCENT/);
    for (const address of ['10.0.0.1', '127.0.0.0/8', 'localhost', '127.1', '127.0.0.256', '::1']) {
      expect(bad(() => rulesetText({ table: 'drill_r_1', listeners: [{ address, ports: [1] }], fault: { kind: 'partition' } })), address).toMatch(/^NFT_BAD_ADDRESS: .*loopback only/);
    }
  });

  it('without nft: exit-3 error naming the package to install', () => {
    const program = nftProgram({ DRILL_NFT: '/nonexistent/nft' });
    expect(program).toBeUndefined();
    expect(() => requireNft('network-loss', { DRILL_NFT: '/nonexistent/nft' })).toThrow(/NFTABLES|nftables is not installed|install the nftables package/);
    try {
      requireNft('network-loss', { DRILL_NFT: '/nonexistent/nft' });
    } catch (error) {
      expect((error as { kind: string; code: string }).kind).toBe('environment');
      expect((error as { code: string }).code).toBe('NFTABLES_MISSING');
      expect((error as Error).message).toMatch(/apt-get install nftables/);
    }
  });
});

// Real kernel drops: a TCP listener on loopback, the filter's tables in the real nf_tables.
const haveNft = nftProgram() !== undefined && process.getuid?.() === 0;
// Skipped with the reason in its title (the run's summary counts it), never silently.
const NO_NFT = haveNft ? '' : ' (skipped: needs root and nft; npm run setup installs nftables as root)';
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-nft-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listener(host = '127.0.0.1', port?: number): Promise<{ port: number; close(): Promise<void> }> {
  port ??= await freeLoopbackPort();
  // Clients that give up destroy their sockets: a reset on the server side is expected, not a crash.
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (d) => socket.write(d));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** true when a connection to the port is set up and echoes within `ms`. */
function echoes(port: number, ms = 1500, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('connect', () => socket.write('ping'));
    socket.on('data', () => {
      clearTimeout(timer);
      done(true);
    });
    socket.on('error', () => {
      clearTimeout(timer);
      done(false);
    });
  });
}

describe.runIf(haveNft)(`NftPacketFilter on the real kernel${NO_NFT}`, () => {
  it('a partition drops the port\'s loopback packets, and only those; removed by its handle, recorded first', async () => {
    const target = await listener();
    const bystander = await listener();
    // The same port number on another loopback address (another drill's region, say) is not this link.
    const samePortElsewhere = await listener('127.0.0.2', target.port);
    const ledgerFile = path.join(dir, 'resources.jsonl');
    const runId = `t${process.pid}-${Date.now()}`;
    const filter = new NftPacketFilter({ ledger: new ResourceLedger(ledgerFile), runId, listeners: () => [{ address: '127.0.0.1', ports: [target.port] }] });
    try {
      expect(await echoes(target.port)).toBe(true);
      const applied = await filter.apply({ kind: 'partition' }, 'network-partition');
      expect(readResources(ledgerFile)).toEqual([{ kind: 'nft-table', family: 'inet', name: applied.table }]);
      expect(await tableHandle(nftProgram()!, applied.table)).toBe(applied.handle);
      expect((await filter.inEffect()).map((a) => a.id)).toEqual([applied.id]);
      expect(await echoes(target.port)).toBe(false);
      // Another loopback port is untouched, and so is the same port on another loopback address.
      expect(await echoes(bystander.port)).toBe(true);
      expect(await echoes(target.port, 1500, '127.0.0.2')).toBe(true);
      expect(await filter.remove(applied.id)).toBe(true);
      expect(await tableHandle(nftProgram()!, applied.table)).toBeUndefined();
      expect(await filter.remove(applied.id)).toBe(false);
      expect(await echoes(target.port)).toBe(true);
    } finally {
      await filter.removeAll();
      await target.close();
      await bystander.close();
      await samePortElsewhere.close();
    }
  });

  it('loss drops about the share asked for, counted by the kernel', async () => {
    const target = await listener();
    const runId = `t${process.pid}-${Date.now()}-loss`;
    const filter = new NftPacketFilter({ ledger: new ResourceLedger(undefined), runId, listeners: () => [{ address: '127.0.0.1', ports: [target.port] }] });
    try {
      const applied = await filter.apply({ kind: 'loss', percent: 50 }, 'network-loss');
      // Connection attempts: each SYN and SYN-ACK passes the rules; half dropped means many stall.
      const results = await Promise.all(Array.from({ length: 40 }, () => echoes(target.port, 800)));
      const listed = JSON.parse(await runNft(nftProgram()!, ['-j', 'list', 'table', 'inet', applied.table])) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> };
      const dropped = listed.nftables.flatMap((e) => e.rule?.expr ?? []).reduce((n, x) => n + (x.counter?.packets ?? 0), 0);
      expect(dropped).toBeGreaterThan(0);
      expect(results.filter((ok) => !ok).length).toBeGreaterThan(0);
      expect(results.filter((ok) => ok).length).toBeGreaterThan(0);
    } finally {
      await filter.removeAll();
      await target.close();
    }
  });

  it('the reaper deletes a table a killed drill left, and only drill tables', async () => {
    const name = tableName(`t${process.pid}-reaped`, 1);
    const program = nftProgram()!;
    await runNft(program, ['-f', '-'], rulesetText({ table: name, listeners: [{ address: '127.0.0.1', ports: [9] }], fault: { kind: 'partition' } }));
    const reap = reaperFor({ kind: 'nft-table', family: 'inet', name });
    expect(reap.stage).toBe('network');
    expect(await reap.reap({ kind: 'nft-table', family: 'inet', name })).toMatchObject({ state: 'removed' });
    expect(await tableHandle(program, name)).toBeUndefined();
    expect(await reap.reap({ kind: 'nft-table', family: 'inet', name })).toEqual({ state: 'absent' });
    // A ledger naming a table that is not a drill table is refused, never deleted.
    expect(await reap.reap({ kind: 'nft-table', family: 'inet', name: 'filter' })).toMatchObject({ state: 'left', reason: expect.stringMatching(/not a drill table/) });
  });
});
