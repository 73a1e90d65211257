import http from 'node:http';
import https from 'node:https';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import type { SupervisedProcess } from './supervised-process.js';

export interface HealthCheck {
  url: string;
  /** CA to verify the server with; without it the certificate is not verified (see `insecure`). */
  ca?: string;
  /**
   * The controller manager and scheduler serve health over HTTPS with a self-signed certificate
   * they generate at start; on loopback, for a health check, not verifying it is acceptable.
   */
  insecure?: boolean;
  token?: string;
  /** The body must contain this (etcd answers 200 with {"health":"false"} when unhealthy). */
  expectBody?: string;
}

/** One GET: the status code and body, or the error message. */
function probe(check: HealthCheck, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const url = new URL(check.url);
  const client = url.protocol === 'https:' ? https : http;
  const options: https.RequestOptions = {
    method: 'GET',
    timeout: timeoutMs,
    headers: check.token ? { authorization: `Bearer ${check.token}` } : {},
    ...(url.protocol === 'https:' ? { ca: check.ca, rejectUnauthorized: !check.insecure } : {}),
  };
  return new Promise((resolve) => {
    const req = client.request(url, options, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const ok = res.statusCode === 200 && (!check.expectBody || body.includes(check.expectBody));
        resolve({ ok, detail: `HTTP ${res.statusCode}: ${body.trim().slice(0, 500)}` });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, detail: error.message }));
    req.end();
  });
}

/**
 * Polls `check` until it passes. Fails fast when the component exits, and with the last answer and
 * the component's log tail when it does not become healthy within `timeoutMs`.
 */
export async function waitForHealthy(
  component: SupervisedProcess,
  check: HealthCheck,
  /** `pollMs`: the pause between two checks (default 250 ms). */
  options: { timeoutMs: number; signal?: AbortSignal; pollMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'not asked yet';
  for (;;) {
    options.signal?.throwIfAborted();
    if (component.exit) {
      throw new EnvironmentError(
        'COMPONENT_EXITED',
        `${component.name} exited during start-up (code ${component.exit.code}, signal ${component.exit.signal}); ` +
          `its log (${component.logFile}) ends:\n${component.logTail()}`,
      );
    }
    const result = await probe(check, 2_000);
    if (result.ok) return;
    last = result.detail;
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        'COMPONENT_NOT_HEALTHY',
        `${component.name} did not become healthy at ${check.url} within ${options.timeoutMs / 1000}s (last answer: ${last}); ` +
          `its log (${component.logFile}) ends:\n${component.logTail()}`,
      );
    }
    await sleep(options.pollMs ?? 250, options.signal);
  }
}
