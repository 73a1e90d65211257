import { execFileSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { childEnvironment } from '../targets/process/child-environment.js';
import { EnvironmentError, InputError } from './errors.js';
import { createRecordedTempDir } from './recorded-temp-dir.js';
import type { ResourceLedger } from './resource-ledger.js';

/**
 * How a scenario's `${VAR}` values reach the drill process without being in any environment.
 * An environment variable is inherited by every process below (vitest's main process, its esbuild
 * service) and readable in /proc/<pid>/environ for the process's life. Instead `drill run` writes
 * the values into a pipe, closes its writing end, and passes the reading end to vitest's main
 * process as this descriptor; that process never reads it. The drill process, vitest's worker,
 * reads the values from its parent's descriptor (`/proc/<ppid>/fd/3`, which only the same user
 * may open) and holds them in memory only. Nothing is on disk: the pipe's name is unlinked before
 * anything is written into it.
 */
export const VARIABLES_FD = 3;

/** A pipe holds this much without a reader (Linux: 16 pages); the values must fit, as they are written before the drill starts. */
const PIPE_CAPACITY = 65_536;

/** Refuses (bad input, before anything starts) `${VAR}` values that would not fit the pipe. */
export function requireVariablesFit(variables: Readonly<Record<string, string>>, file: string): void {
  const size = Buffer.byteLength(JSON.stringify(variables), 'utf8');
  if (size < PIPE_CAPACITY) return;
  const largest = Object.entries(variables).sort((a, b) => b[1].length - a[1].length).slice(0, 3).map(([name]) => name);
  throw new InputError(
    'SCENARIO_VARIABLES_TOO_LARGE',
    `${file}: the \${VAR} values the scenario uses take ${size} bytes (largest: ${largest.join(', ')}), more than drill can hand to a drill process (${PIPE_CAPACITY - 1} bytes); pass large values as files instead. Nothing was started.`,
  );
}

/**
 * CLI side: the pipe's reading end holding `variables` (pass it as the child's descriptor 3, then
 * close it here). The pipe is made under a name in a temp dir of the run's ledger (reaped after a
 * kill -9 in the microseconds it exists), removed before the values are written.
 */
export function variablesPipe(variables: Readonly<Record<string, string>>, ledger: Pick<ResourceLedger, 'record'>): number {
  const bytes = Buffer.from(JSON.stringify(variables), 'utf8');
  if (bytes.length >= PIPE_CAPACITY) {
    throw new EnvironmentError('SCENARIO_VARIABLES_TOO_LARGE', `the scenario's \${VAR} values take ${bytes.length} bytes, more than a pipe holds (${PIPE_CAPACITY}); pass large values as files instead`);
  }
  const dir = createRecordedTempDir(ledger, 'drill-vars-');
  try {
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', ['-m', '600', fifo], { env: childEnvironment() });
    // Non-blocking: the reading end opens with no writer yet, and the writing end then has a reader.
    const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    rmSync(dir, { recursive: true, force: true });
    try {
      if (writeSync(write, bytes) !== bytes.length) throw new Error('short write');
    } catch (error) {
      closeSync(read);
      throw error;
    } finally {
      closeSync(write);
    }
    return read;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Drill side: the values `drill run` put in its pipe, read from the parent's descriptor. */
export function receiveVariables(parent = process.ppid): Record<string, string> {
  const source = `/proc/${parent}/fd/${VARIABLES_FD}`;
  let fd: number;
  try {
    fd = openSync(source, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new EnvironmentError('SCENARIO_VARIABLES_UNREADABLE', `the drill process could not open ${source} for its scenario's \${VAR} values (${(error as Error).message}); run drills with \`npx drill run\``);
  }
  try {
    if (!fstatSync(fd).isFIFO()) throw new EnvironmentError('SCENARIO_VARIABLES_UNREADABLE', `${source} is not the pipe \`drill run\` passes the scenario's \${VAR} values through; run drills with \`npx drill run\``);
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(PIPE_CAPACITY);
    // The writing end was closed before the drill started: the values, then end of file.
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) chunks.push(Buffer.from(chunk.subarray(0, n)));
    const text = Buffer.concat(chunks).toString('utf8');
    // Read once: a second reader (or a pipe that was never filled) finds it empty.
    if (text === '') throw new EnvironmentError('SCENARIO_VARIABLES_UNREADABLE', `${source} held no scenario \${VAR} values (read already?); run the drill again with \`npx drill run\``);
    return JSON.parse(text) as Record<string, string>;
  } finally {
    closeSync(fd);
  }
}
