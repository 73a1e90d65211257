import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResources } from '../../src/engine/resource-ledger.js';
import { dockerRequest } from '../../src/targets/docker/docker-api.js';
import { ROOT, runCli, runDirFrom } from '../e2e/helpers.js';
import { engine, SKIP } from './engine.js';

/**
 * `drill run` (the CLI, its drill process and its reaper) on the testcontainers provider, inside
 * the engine's network namespace like a user of tools/local-docker.sh exec. What the drills judge
 * on this provider is covered by pg-scenarios.test.ts; this is about the processes around them.
 */

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-tc-e2e-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));
const scenario = (name: string) => path.join(ROOT, 'drills/scenarios', name);

/** Containers still on the engine that carry the labels a run recorded in its ledger. */
async function containersLeft(runDir: string): Promise<string[]> {
  const left: string[] = [];
  for (const r of readResources(path.join(runDir, 'resources.jsonl'))) {
    if (r.kind !== 'docker-container') continue;
    const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(r.labels).map(([k, v]) => `${k}=${v}`) }));
    const listed = JSON.parse((await dockerRequest(r.engine, 'GET', `/containers/json?all=1&filters=${filters}`))!.body) as Array<{ Id: string }>;
    left.push(...listed.map((c) => c.Id.slice(0, 12)));
  }
  return left;
}

/** The drill process the CLI started: its child that leads a process group of its own. */
function drillProcessOf(cliPid: number): number | undefined {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === cliPid && Number(pgrp) === Number(entry)) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

describe.skipIf(!engine)(`drill run on the testcontainers provider${SKIP}`, () => {
  it('provider auto picks testcontainers here; a drill killed mid-run (SIGKILL) leaves no container: the CLI reaps it from the ledger (exit 3)', async () => {
    let killed: number | undefined;
    const result = await runCli(['run', scenario('db-corruption-pitr.yaml'), '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (killed === undefined && /Baseline \(steady state\) …/.test(all)) {
          killed = drillProcessOf(child.pid!);
          if (killed) process.kill(-killed, 'SIGKILL');
        }
      },
    });
    expect(killed).toBeGreaterThan(0);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/cleaned up what the drill left: container \S+/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    // The scenario says provider: auto; the container in the ledger is testcontainers' choice. The
    // temp dir is the one `drill run` made its \${VAR} pipe in (src/engine/variables-handoff.ts), gone.
    const recorded = readResources(path.join(runDir, 'resources.jsonl'));
    expect(recorded.map((r) => (r.kind === 'temp-dir' ? `temp-dir ${path.basename(r.path).replace(/[0-9a-f]{16}$/, '')}` : r.kind))).toEqual(['temp-dir drill-vars-', 'docker-container']);
    for (const r of recorded) if (r.kind === 'temp-dir') expect(existsSync(r.path)).toBe(false);
    expect(await containersLeft(runDir)).toEqual([]);
  });
});
