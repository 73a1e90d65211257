/**
 * A stand-in for a drill process, for the reaper tests: creates a run in the machine-wide ledger
 * (argv: runs dir, run id, run dir) with itself as owner, creates a temp directory and starts a
 * long-running program recorded as `process` (its command line names the temp directory), prints
 * one JSON line with what it made, then waits to be killed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { RunLedger } from '../../src/engine/run-ledger.js';
import { processStartTime } from '../../src/targets/process/process-identity.js';

const [runs, runId, runDir] = process.argv.slice(2) as [string, string, string];
const run = RunLedger.create(runs, { runId, runDir }, 'drill');
const ledger = new ResourceLedger(undefined, run);
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-reaper-test-'));
ledger.record({ kind: 'temp-dir', path: dir });
// Its own session: killing this owner must not take the program along, as with PostgreSQL.
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', dir], { detached: true, stdio: 'ignore' });
child.unref();
ledger.record({ kind: 'process', pid: child.pid!, name: 'sleeper', match: dir, startTime: processStartTime(child.pid!) });
process.stdout.write(`${JSON.stringify({ ledger: run.file, dir, program: child.pid })}\n`);
setInterval(() => undefined, 1000);
