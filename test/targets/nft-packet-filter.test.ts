import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResources, ResourceLedger, type Resource } from '../../src/engine/resource-ledger.js';
import { reaperFor } from '../../src/engine/reapers.js';
import { isDrillTableComment, isDrillTableName, rulesetText, tableComment, tableName } from '../../src/targets/network-nft/nft-ruleset.js';
import { nftProgram, parseTableListing, requireNft, runNft, tableHandle } from '../../src/targets/network-nft/nft.js';
import { NftPacketFilter } from '../../src/targets/network-nft/packet-filter.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';

describe('nftables ruleset of a packet fault (pure)', () => {
  it('drops only loopback TCP to and from the link ports, in a drill-owned inet table', () => {
    const text = rulesetText({ table: 'drill_20261202T101025Z_net_1', comment: 'drill run 20261202T101025Z-net', listeners: [{ address: '127.0.0.1', ports: [40123] }], fault: { kind: 'loss', percent: 30 } });
    expect(text).toBe(
      [
        'table inet drill_20261202T101025Z_net_1 {',
        '\tcomment "drill run 20261202T101025Z-net";',
        '\tchain output {',
        '\t\ttype filter hook output priority filter; policy accept;',
        '\t\toif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp ip daddr 127.0.0.1 tcp dport 40123 numgen random mod 100 < 30 counter drop',
        '\t\toif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp ip saddr 127.0.0.1 tcp sport 40123 numgen random mod 100 < 30 counter drop',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    const partition = rulesetText({ table: 'drill_r_2', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [5432, 40123] }], fault: { kind: 'partition' } });
    expect(partition).toContain('tcp dport { 5432, 40123 } counter drop');
    expect(partition).toContain('tcp sport { 5432, 40123 } counter drop');
    expect(partition).not.toContain('numgen');
    // Every rule is loopback-only; nothing else is matched or changed (policy accept).
    for (const rule of partition.split('\n').filter((l) => l.includes('drop'))) expect(rule).toMatch(/^\t\toif "lo" ip saddr 127\.0\.0\.0\/8 ip daddr 127\.0\.0\.0\/8 /);
    expect(rulesetText({ table: 'drill_r_3', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'loss', percent: 100 } })).toContain('tcp dport 1 counter drop');
  });

  it('names tables per run and per fault, and recognises only its own names', () => {
    expect(tableName('20261202T101025Z-net-loss.2', 3)).toBe('drill_20261202T101025Z_net_loss_2_3');
    expect(isDrillTableName(tableName('x-y', 1))).toBe(true);
    for (const other of ['filter', 'nat', 'drill_', 'drill_x', 'docker_1', 'drill_x_1; flush ruleset', 'DRILL_x_1']) expect(isDrillTableName(other), other).toBe(false);
  });

  it('marks each table with the run id (a comment the reaper checks), and reads the mark back from nft\'s listing', () => {
    expect(tableComment('20261202T101025Z-net-loss.2')).toBe('drill run 20261202T101025Z-net-loss.2');
    expect(tableComment('a"b; flush ruleset')).toBe('drill run a_b__flush_ruleset');
    expect(tableComment('x'.repeat(300)).length).toBe(127);
    expect(isDrillTableComment(tableComment('x-y'))).toBe(true);
    for (const other of ['', 'drill run ', 'drill run a"b', 'something else', `drill run ${'x'.repeat(200)}`]) expect(isDrillTableComment(other), other).toBe(false);
    const listing = ['table inet drill_r_1 { # handle 17', '\tcomment "drill run r"', '\tchain output { # handle 1', '\t\tcomment "chain"', '\t}', '}', ''].join('\n');
    expect(parseTableListing(listing, 'drill_r_1')).toEqual({ handle: 17, comment: 'drill run r' });
    // A chain's comment is not the table's.
    expect(parseTableListing(['table inet drill_r_1 { # handle 18', '\tchain output { # handle 1', '\t\tcomment "drill run r"', '\t}', '}'].join('\n'), 'drill_r_1')).toEqual({ handle: 18, comment: undefined });
    expect(parseTableListing(listing, 'drill_r_12')).toBeUndefined();
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
    expect(bad(() => rulesetText({ table: 'filter', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_TABLE_NAME: .*not a drill table name/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', comment: 'drill run "x"', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_TABLE_COMMENT: .*not a drill table marker/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_NO_PORT/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [70000] }], fault: { kind: 'partition' } }))).toMatch(/^NFT_BAD_PORT: TCP port 70000/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'loss', percent: 0 } }))).toMatch(/^NFT_BAD_PERCENT/);
    expect(bad(() => rulesetText({ table: 'drill_r_1', comment: 'drill run r', listeners: [{ address: '127.0.0.1', ports: [1] }], fault: { kind: 'loss', percent: 2.5 } }))).toMatch(/^NFT_BAD_PERCENT/);
    for (const address of ['10.0.0.1', '127.0.0.0/8', 'localhost', '127.1', '127.0.0.256', '::1']) {
      expect(bad(() => rulesetText({ table: 'drill_r_1', comment: 'drill run r', listeners: [{ address, ports: [1] }], fault: { kind: 'partition' } })), address).toMatch(/^NFT_BAD_ADDRESS: .*loopback only/);
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
      expect(readResources(ledgerFile)).toEqual([{ kind: 'nft-table', family: 'inet', name: applied.table, comment: tableComment(runId) }]);
      expect(applied.comment).toBe(tableComment(runId));
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

  it('the reaper deletes a table a killed drill left, and only drill tables carrying the recorded marker', async () => {
    const program = nftProgram()!;
    const runId = `t${process.pid}-reaped`;
    const comment = tableComment(runId);
    const name = tableName(runId, 1);
    const make = (table: string, text: string) => runNft(program, ['-f', '-'], text.replace(/^table inet \S+ \{/, `table inet ${table} {`));
    const drillTable = rulesetText({ table: name, comment, listeners: [{ address: '127.0.0.1', ports: [9] }], fault: { kind: 'partition' } });
    // Negative controls first: tables named like drill tables that the drill did not mark so.
    const unmarked = tableName(runId, 2);
    const otherMark = tableName(runId, 3);
    const entry = (table: string) => ({ kind: 'nft-table' as const, family: 'inet' as const, name: table, comment });
    try {
      await make(unmarked, drillTable.replace(/^\tcomment .*\n/m, ''));
      await make(otherMark, drillTable.replace(comment, tableComment(`${runId}-someone-else`)));
      const unmarkedHandle = await tableHandle(program, unmarked);
      const otherHandle = await tableHandle(program, otherMark);
      expect(unmarkedHandle).toBeDefined();
      expect(otherHandle).toBeDefined();
      expect(await reaperFor(entry(unmarked)).reap(entry(unmarked))).toMatchObject({ state: 'left', reason: expect.stringMatching(/does not carry the drill's marker.*no comment/) });
      expect(await reaperFor(entry(otherMark)).reap(entry(otherMark))).toMatchObject({ state: 'left', reason: expect.stringMatching(/does not carry the drill's marker.*someone-else/) });
      expect(await tableHandle(program, unmarked)).toBe(unmarkedHandle);
      expect(await tableHandle(program, otherMark)).toBe(otherHandle);
      // An entry of an older ledger (no marker recorded) is not reaped on its name alone.
      const older: Resource = { kind: 'nft-table', family: 'inet', name: unmarked };
      expect(await reaperFor(older).reap(older)).toMatchObject({ state: 'left', reason: expect.stringMatching(/no drill marker/) });
      expect(await tableHandle(program, unmarked)).toBe(unmarkedHandle);

      // The drill's own table, carrying the marker its ledger entry records: reaped.
      await runNft(program, ['-f', '-'], drillTable);
      const reap = reaperFor(entry(name));
      expect(reap.stage).toBe('network');
      expect(await reap.reap(entry(name))).toMatchObject({ state: 'removed' });
      expect(await tableHandle(program, name)).toBeUndefined();
      expect(await reap.reap(entry(name))).toEqual({ state: 'absent' });
      // A ledger naming a table that is not a drill table is refused, never deleted.
      expect(await reap.reap({ kind: 'nft-table', family: 'inet', name: 'filter', comment })).toMatchObject({ state: 'left', reason: expect.stringMatching(/not a drill table/) });
    } finally {
      for (const table of [name, unmarked, otherMark]) if ((await tableHandle(program, table)) !== undefined) await runNft(program, ['delete', 'table', 'inet', table]);
    }
  });
});
