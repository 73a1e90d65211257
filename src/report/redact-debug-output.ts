import { formatWithOptions } from 'node:util';
import createDebug from 'debug';
import type { Redactor } from './redactor.js';

/**
 * `DEBUG=drill:*` output of the drill process goes to the run's runner.log: every debug line passes
 * through the run's Redactor before it is written, as every other artifact does. (debug calls
 * `createDebug.log` for every namespace that has no logger of its own.)
 */
export function redactDebugOutput(redactor: Redactor): void {
  createDebug.log = (...args: unknown[]) => {
    process.stderr.write(`${redactor.redact(formatWithOptions({ colors: false }, ...args))}\n`);
  };
}
