/**
 * Runs a command inside a drill network of its own (src/targets/network/drill-network.ts): how
 * `npm test` runs the suite, so that the shared test cluster's real nodes, their pods and every
 * address the tests contact live in a network namespace with no route out. Without root it runs
 * the command where it is and says so (tests that need real nodes then fail with what to do).
 *
 *   tsx tools/with-drill-network.ts -- <command> [args...]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reapTempDir } from '../src/engine/reap-temp-dir.js';
import { RunLedger, runsDir } from '../src/engine/run-ledger.js';
import { DrillNetwork, enterNetwork, type NetworkResource } from '../src/targets/network/drill-network.js';
import { networkName } from '../src/targets/network/layout.js';

const separator = process.argv.indexOf('--');
const command = separator >= 0 ? process.argv.slice(separator + 1) : [];
if (command.length === 0) {
  console.error('usage: tsx tools/with-drill-network.ts -- <command> [args...]');
  process.exit(2);
}

let network: DrillNetwork | undefined;
let ledger: RunLedger | undefined;
if (process.getuid?.() === 0) {
  // In the machine-wide ledger with this process as owner: killed, the next `drill run` or
  // `drill cleanup` removes the namespace and its guard route.
  ledger = RunLedger.create(runsDir(), { runId: `test-network-${process.pid}`, runDir: '' });
  const record = (r: NetworkResource) => ledger!.record(r);
  network = await DrillNetwork.create(networkName('test', String(process.pid)), record);
} else {
  console.error('with-drill-network: not root, so no drill network: running the command in this network namespace (tests with real nodes need root)');
}

// A temp dir for the command's tests (DRILL_TEST_TMPDIR; vitest.config.ts makes it the TMPDIR of
// the projects that can take a longer path): every directory a test makes with mkdtemp lands in
// it. A test's own directories are in no ledger, so a killed vitest used to leave them in /tmp for
// good; this one is in the ledger (with this process as owner), so the next run or `drill
// cleanup` removes it. Sticky and world-writable like /tmp: tests run initdb as postgres inside.
// Recorded before it exists: a kill -9 between the two leaves an entry for nothing, never a dir.
const tmp = path.join(os.tmpdir(), `drill-t${randomBytes(4).toString('hex')}`);
ledger?.record({ kind: 'temp-dir', path: tmp });
mkdirSync(tmp, { mode: 0o700 });
chmodSync(tmp, 0o1777);

const [file, ...args] = network ? [...enterNetwork(network.name), ...command] : command;
const child = spawn(file!, args, {
  stdio: 'inherit',
  env: { ...process.env, DRILL_TEST_TMPDIR: tmp, ...(network ? { DRILL_NETWORK: network.name } : {}) },
});
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1))));
await network?.destroy();
// Refuses (and says so) when something is still mounted inside: the ledger entry then stays.
const tmpOutcome = await reapTempDir({ kind: 'temp-dir', path: tmp });
if (tmpOutcome.state === 'left') console.error(`with-drill-network: ${tmpOutcome.what} left: ${tmpOutcome.reason}`);
else ledger?.remove();
process.exit(code);
