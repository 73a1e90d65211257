/**
 * A stand-in for a vitest process of the kubernetes project, for test/engine/recorded-test-dir.test.ts:
 * makes one directory with recordedTestDir in the runs directory given (argv), prints one JSON
 * line with it, then waits to be killed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { recordedTestDir } from './recorded-test-dir.js';

const [runs] = process.argv.slice(2) as [string];
const dir = recordedTestDir('drill-test-dir-owner-', runs);
// Something inside, as a test's reports or kubeconfigs would be.
writeFileSync(path.join(dir, 'kubeconfig'), 'not a secret\n');
process.stdout.write(`${JSON.stringify({ dir })}\n`);
setInterval(() => undefined, 1000);
