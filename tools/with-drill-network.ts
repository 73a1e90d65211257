/**
 * Runs a command inside a drill network of its own (src/targets/network/drill-network.ts): how
 * `npm test` runs the suite, so that the shared test cluster's real nodes, their pods and every
 * address the tests contact live in a network namespace with no route out. Without root it runs
 * the command where it is and says so (tests that need real nodes then fail with what to do).
 *
 *   tsx tools/with-drill-network.ts -- <command> [args...]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
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

const [file, ...args] = network ? [...enterNetwork(network.name), ...command] : command;
const child = spawn(file!, args, { stdio: 'inherit', env: { ...process.env, ...(network ? { DRILL_NETWORK: network.name } : {}) } });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1))));
await network?.destroy();
ledger?.remove();
process.exit(code);
