import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResources } from '../../src/engine/resource-ledger.js';
import { nftProgram } from '../../src/targets/network-nft/nft.js';
import { listRunLedgers, RunLedger } from '../../src/engine/run-ledger.js';
import { e2eWorkspace, leftovers, nftTables, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { ownersGone, runAndKill } from './kill-helpers.js';

// region-outage with network: drop through the CLI: the blackholed primary region behind a real
// nftables table on its exact listeners. One scenario run and one kill -9 (region drills are slow).
const { reportsDir, runs, env } = e2eWorkspace('drill-e2e-region-drop');

const scenario = path.join(ROOT, 'drills/scenarios/region-outage-network-drop-dns-failover.yaml');

/** The nft-table entries of the runs directory's ledgers now, as `inet drill_…`. */
function recordedTables(): string[] {
  return listRunLedgers(runs).flatMap((file) => {
    try {
      return RunLedger.open(file)
        .read()
        .resources.flatMap((r) => (r.kind === 'nft-table' ? [`${r.family} ${r.name}`] : []));
    } catch {
      return [];
    }
  });
}

interface DropDetails {
  mode: string;
  processes: Array<{ name: string; pid: number }>;
  network: { nftTable: string; nftHandle: number; listeners: Array<{ address: string; port: number; what: string }>; ruleset: string; connects: Record<string, string> };
}

describe('region-outage with network: drop (nftables on the lost region\'s exact listeners)', () => {
  it('region-outage-network-drop-dns-failover passes: the table is in the kernel during the fault, its connects time out, and it is gone after', async () => {
    // Polled from outside while the drill runs: which recorded tables the kernel lists.
    const seen = new Set<string>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const listed = nftTables();
        for (const t of recordedTables()) if (listed.includes(t)) seen.add(t);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const result = await runCli(['run', scenario, '--reports-dir', reportsDir], { env });
    polling = false;
    await poll;
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const fault = journal.events.find((e) => e.kind === 'fault')!.data as unknown as DropDetails;
    const regions = journal.events.find((e) => e.kind === 'regions')!.data as {
      port: number;
      regions: Array<{ name: string; instances: Array<{ name: string; url: string }>; database: { host: string; port: number } }>;
    };
    const primary = regions.regions.find((r) => r.name === 'us-west-2')!;
    // Exactly the primary region's listeners: each service process's address:port and its PostgreSQL's.
    const expected = [...primary.instances.map((i) => new URL(i.url).host), `${primary.database.host}:${primary.database.port}`].sort();
    expect(fault.network.listeners.map((l) => `${l.address}:${l.port}`).sort()).toEqual(expected);
    expect(fault.network.listeners.every((l) => l.address.startsWith('127.0.1.'))).toBe(true);
    // A connect to each timed out before the fault counted as injected.
    expect(Object.keys(fault.network.connects).sort()).toEqual(expected);
    expect(Object.values(fault.network.connects).every((o) => o === 'timed out')).toBe(true);
    // The rules name those pairs and nothing wider: the only prefix is the loopback guard.
    expect(fault.network.ruleset.replaceAll('127.0.0.0/8', '')).not.toMatch(/\/\d/);
    for (const pair of expected) expect(fault.network.ruleset).toContain(`ip daddr ${pair.split(':')[0]} tcp dport`);
    expect(fault.network.ruleset).not.toContain('127.0.2.');
    const table = fault.network.nftTable;
    expect(table).toMatch(new RegExp(`^inet drill_${journal.runId.replace(/[^A-Za-z0-9_]/g, '_')}_\\d+$`));
    // In the kernel while the drill ran (seen from outside), deleted by the end.
    expect([...seen]).toEqual([table]);
    expect(nftTables()).not.toContain(table);
    const dropped = journal.events.find((e) => e.kind === 'packets-dropped')!;
    expect((dropped.data as { table: string }).table).toBe(table.replace(/^inet /, ''));
    expect((dropped.data as { droppedPackets: number }).droppedPackets).toBeGreaterThan(0);
    // Clients met a dead network: their failures are time-outs at the lost region's addresses, never refusals.
    const tFault = journal.marks.tFault!.t;
    const failed = journal.probes.filter((p) => !p.ok && p.t > tFault);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((p) => /timed out/.test(p.error ?? '')), failed.map((p) => p.error).join('; ')).toBe(true);
    expect(journal.steps.map((s) => s.name)).toEqual(['activate-dr-site', 'dns-failover', 'verify-dr']);
    expect(journal.steps.find((s) => s.name === 'activate-dr-site')!.output).toMatchObject({
      fenced: { service: expect.stringMatching(/^unreachable/), database: expect.stringMatching(/^unreachable/) },
      promotion: { replica: 'replica-1' },
    });
    expect(journal.verdicts.filter((v) => v.status === 'failed')).toEqual([]);
    expect(readResources(path.join(runDir, 'resources.jsonl')).filter((r) => r.kind === 'nft-table')).toHaveLength(1);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('negative control: an nft that takes the table but loses its drop rules: exit 3 REGION_DROP_NOT_IN_EFFECT, nothing left', async () => {
    // The real nft behind a wrapper that strips the rules on the way in: the table exists, drops nothing.
    const wrapper = path.join(reportsDir, 'nft-without-rules');
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "-f" ]; then sed '/counter drop$/d' | ${nftProgram()!} "$@"; else exec ${nftProgram()!} "$@"; fi\n`, { mode: 0o755 });
    const result = await runCli(['run', scenario, '--reports-dir', reportsDir], { env: { ...env, DRILL_NFT: wrapper } });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(3);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.error).toMatchObject({ code: 'REGION_DROP_NOT_IN_EFFECT' });
    // A frozen process's socket completes the handshake: named with the pair.
    expect(journal.error?.message).toMatch(/region us-west-2: nftables table inet drill_\S+ should drop every packet of its listeners, but 127\.0\.1\.\d+:\d+ connected/);
    const [table] = readResources(path.join(runDir, 'resources.jsonl')).filter((r) => r.kind === 'nft-table');
    expect(table).toBeDefined();
    expect(nftTables()).not.toContain(`inet ${(table as { name: string }).name}`);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('kill -9 of `drill run` and the drill while the region is dropped: `drill cleanup` deletes the table', async () => {
    let table: string | undefined;
    const killed = await runAndKill({
      scenario,
      reportsDir,
      env,
      groups: 'cli-and-drill',
      what: 'the region dropped',
      when: (s) => {
        const entry = s.ledger.resources.find((r) => r.kind === 'nft-table');
        table = entry && `${entry.family} ${entry.name}`;
        return table !== undefined && nftTables().includes(table) && s.started.includes('Recover (runbook steps)');
      },
    });
    await ownersGone(killed.ledgerFile);
    // Negative control: killed like this, the kernel still drops the region's packets.
    expect(nftTables()).toContain(table);
    expect(leftovers(killed.runDir)).toContain(`nft table ${table}`);

    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`removed nftables table ${table}`);
    expect(nftTables()).not.toContain(table);
    expect(leftovers(killed.runDir)).toEqual([]);
    expect(existsSync(killed.ledgerFile)).toBe(false);
  });
});
