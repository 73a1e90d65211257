import { spawn } from 'node:child_process';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { childEnvironment } from './child-environment.js';

const debug = createDebug('drill:proc');

/** How long an aborted command has to end after SIGTERM before it is killed (SIGKILL). */
export const ABORT_KILL_GRACE_MS = 5000;

export interface RunAs {
  uid: number;
  gid: number;
}

export interface CommandOptions {
  /** Run as this user (PostgreSQL refuses to run as root). */
  runAs?: RunAs;
  cwd?: string;
  /** Values for the program's environment (src/targets/process/child-environment.ts adds the basics). */
  env?: Record<string, string>;
  /** Variables of this process's environment the program needs beyond the basics (names or `PREFIX_*`). */
  passEnv?: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Exit codes that are not an error. */
  okCodes?: number[];
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion and captures its output; a non-zero exit is an EnvironmentError. */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const okCodes = options.okCodes ?? [0];
  debug('%s %s', file, args.join(' '));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: childEnvironment({ pass: options.passEnv, set: options.env }),
      uid: options.runAs?.uid,
      gid: options.runAs?.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let aborted: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    child.on('error', (error) => {
      if (error.name !== 'AbortError') {
        reject(new EnvironmentError('COMMAND_FAILED', `could not run ${file}: ${error.message}`, { cause: error }));
        return;
      }
      // An abort is reported the moment SIGTERM is sent, while the child still runs: settling then
      // would let the caller go on (and a test see it) with the process alive, so this waits for
      // the child, and kills one that ignores SIGTERM.
      aborted = error;
      killTimer = setTimeout(() => child.kill('SIGKILL'), ABORT_KILL_GRACE_MS).unref();
    });
    child.on('exit', () => {
      clearTimeout(killTimer);
      // A grandchild holding the pipes must not keep an aborted call waiting for 'close'.
      if (aborted) {
        child.stdout.destroy();
        child.stderr.destroy();
      }
    });
    child.on('close', (code, signal) => {
      if (aborted) {
        const how = signal ? `ended by ${signal}` : `exit code ${code}`;
        return reject(new EnvironmentError('COMMAND_ABORTED', `${file.split('/').pop()} ${args.join(' ')} was stopped because the drill no longer waits for it (${how})`, { cause: aborted }));
      }
      const result = { code: code ?? -1, stdout, stderr };
      if (okCodes.includes(result.code)) return resolve(result);
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      reject(
        new EnvironmentError(
          'COMMAND_FAILED',
          `${file.split('/').pop()} ${args.join(' ')} failed (${why}): ${(stderr || stdout).trim().slice(-2000)}`,
        ),
      );
    });
  });
}
