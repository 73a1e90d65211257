import { execFile } from 'node:child_process';
// eslint-disable-next-line no-restricted-imports -- only for callers without a run ledger (bench); drills pass theirs
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError } from '../../engine/errors.js';
import { childEnvironment } from '../../targets/process/child-environment.js';
import { processStartTime } from '../../targets/process/process-identity.js';
import { binaryOnPath } from './binary-on-path.js';
import type { LoadDriverInput, LoadDriverResult } from './load-driver.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';

/**
 * k6, when `k6` is on PATH: a shared-iterations scenario (vus = connections, iterations =
 * requests, maxDuration = duration) over the endpoints in turn. The token goes in a 0600 file the
 * script reads (never the command line or the environment); the temp dir is removed afterwards.
 * k6 counts a request failed when it got no answer or a status outside 200-399: those are
 * reported as non-2xx (k6's summary does not tell the two apart).
 */
export async function runK6(input: LoadDriverInput): Promise<LoadDriverResult> {
  const k6 = binaryOnPath('k6');
  if (!k6) throw new EnvironmentError('LOAD_DRIVER_MISSING', 'workload.load.driver is k6, and no k6 is on PATH; install k6 or use driver: autocannon');
  // It holds the token file: in the ledger before it exists, so after a kill -9 the reaper removes it.
  const dir = input.ledger ? createRecordedTempDir(input.ledger, 'drill-k6-') : mkdtempSync(path.join(os.tmpdir(), 'drill-k6-'));
  try {
    const tokenFile = path.join(dir, 'token');
    if (input.token) writeFileSync(tokenFile, input.token, { mode: 0o600 });
    const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;
    writeFileSync(
      path.join(dir, 'load.js'),
      `import http from 'k6/http';
const urls = ${JSON.stringify(input.urls)};
const token = ${input.token ? "open('./token').trim()" : "''"};
export const options = {
  scenarios: { load: { executor: 'shared-iterations', vus: ${input.connections}, iterations: ${input.requests}, maxDuration: '${seconds(input.durationMs)}' } },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(99)'],
  discardResponseBodies: true,
};
export default function () {
  http.get(urls[__ITER % urls.length], { timeout: '${seconds(input.requestTimeoutMs)}', headers: token ? { authorization: 'Bearer ' + token } : {} });
}
`,
    );
    const summary = path.join(dir, 'summary.json');
    await new Promise<void>((resolve, reject) => {
      const child = execFile(k6, ['run', '--quiet', '--no-color', `--summary-export=${summary}`, 'load.js'], { cwd: dir, signal: input.signal, maxBuffer: 4 * 1024 * 1024, env: childEnvironment({ set: { HOME: dir } }) }, (error, _out, stderr) => {
        if (error) reject(new EnvironmentError('LOAD_RUN_FAILED', `k6 failed: ${stderr.trim().slice(-500) || error.message}`));
        else resolve();
      });
      // Its command line names the temp dir (--summary-export): the reaper's match.
      if (child.pid) input.ledger?.record({ kind: 'process', pid: child.pid, name: 'k6', match: dir, startTime: processStartTime(child.pid) });
    });
    return parseK6Summary(JSON.parse(readFileSync(summary, 'utf8')) as K6Summary, input.requests);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface K6Summary {
  state?: { testRunDurationMs?: number };
  metrics: Record<string, Record<string, number>>;
}

/** k6's --summary-export: http_reqs (count, rate), http_req_duration (trend stats), http_req_failed (passes = failed), iterations. */
export function parseK6Summary(summary: K6Summary, requested: number): LoadDriverResult {
  const m = summary.metrics;
  const duration = m.http_req_duration ?? {};
  const responses = m.http_reqs?.count ?? 0;
  const durationMs = summary.state?.testRunDurationMs ?? (m.http_reqs?.rate ? (responses / m.http_reqs.rate) * 1000 : 0);
  return {
    responses,
    durationMs,
    requestsPerSecond: m.http_reqs?.rate ?? 0,
    latencyMs: { p50: duration['p(50)'] ?? duration.med ?? 0, p90: duration['p(90)'] ?? 0, p99: duration['p(99)'] ?? 0, max: duration.max ?? 0, mean: duration.avg ?? 0 },
    errors: 0,
    timeouts: 0,
    non2xx: m.http_req_failed?.passes ?? 0,
    stoppedBy: (m.iterations?.count ?? responses) < requested ? 'duration' : 'requests',
  };
}
