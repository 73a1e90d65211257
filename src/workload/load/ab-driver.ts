import { execFile } from 'node:child_process';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { childEnvironment } from '../../targets/process/child-environment.js';
import { processStartTime } from '../../targets/process/process-identity.js';
import { binaryOnPath } from './binary-on-path.js';
import type { LoadDriverInput, LoadDriverResult } from './load-driver.js';

/**
 * Apache Bench, as the runbook writes it (`ab -n 1000 -c 10 URL`), when `ab` is on PATH. `-t`
 * before `-n` bounds the time without ab's implied 50000 requests; `-l` accepts bodies of varying
 * length (a /health body is not a fixed document). ab takes one URL: the first endpoint. It can
 * send the token only on its command line (readable by every user of the machine), so it is not
 * used for /api/ paths (refused when the scenario is loaded).
 */
export async function runAb(input: LoadDriverInput): Promise<LoadDriverResult> {
  const ab = binaryOnPath('ab');
  if (!ab) throw new EnvironmentError('LOAD_DRIVER_MISSING', 'workload.load.driver is ab, and no ab is on PATH; install it (Debian: apt-get install apache2-utils) or use driver: autocannon');
  if (input.token) throw new InputError('LOAD_DRIVER_UNSAFE', 'ab would put the API token on its command line; use driver: autocannon or k6 for /api/ paths');
  const args = ['-t', String(Math.max(1, Math.ceil(input.durationMs / 1000))), '-n', String(input.requests), '-c', String(input.connections), '-s', String(Math.max(1, Math.ceil(input.requestTimeoutMs / 1000))), '-l', input.urls[0]!];
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile(ab, args, { signal: input.signal, maxBuffer: 4 * 1024 * 1024, env: childEnvironment() }, (error, stdout, stderr) => {
      if (error && !/Complete requests/.test(stdout)) reject(new EnvironmentError('LOAD_RUN_FAILED', `ab failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    // The URL (loopback port of this run's endpoint) is on its command line: the reaper's match.
    if (child.pid) input.ledger?.record({ kind: 'process', pid: child.pid, name: 'ab', match: input.urls[0]!, startTime: processStartTime(child.pid) });
  });
  return parseAbOutput(output, input.requests);
}

/** ab's report: counts, time taken, and the "Percentage of the requests served within a certain time (ms)" table. */
export function parseAbOutput(text: string, requested: number): LoadDriverResult {
  const number = (label: string): number | undefined => {
    const m = new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const percentile = (p: string): number | undefined => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const complete = number('Complete requests');
  const seconds = number('Time taken for tests');
  if (complete === undefined || seconds === undefined) throw new EnvironmentError('LOAD_RUN_FAILED', `could not read ab's report: ${text.slice(0, 300)}`);
  const durationMs = seconds * 1000;
  return {
    responses: complete,
    durationMs,
    requestsPerSecond: number('Requests per second') ?? (durationMs > 0 ? (complete / durationMs) * 1000 : 0),
    latencyMs: {
      p50: percentile('50') ?? 0,
      p90: percentile('90') ?? 0,
      p99: percentile('99') ?? 0,
      max: percentile('100') ?? 0,
      mean: number('Time per request') ?? 0,
    },
    errors: number('Failed requests') ?? 0,
    timeouts: 0,
    non2xx: number('Non-2xx responses') ?? 0,
    stoppedBy: complete < requested ? 'duration' : 'requests',
  };
}
