import http from 'node:http';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import type { HealthCheckConfig } from './route53-failover.js';
import { isLoopbackIPv4 } from '../network/loopback-address.js';

const debug = createDebug('drill:health-check');

/** Route 53 waits this long for a connection and the response (4 s to connect, 2 s to answer): one bound here. */
const MAX_REQUEST_MS = 4_000;

/** One change of a health check's status, as journaled (evidence for the RTO split). */
export interface HealthTransition {
  healthCheckId: string;
  endpoint: string;
  healthy: boolean;
  /** Wall clock of the check that decided it (ISO 8601). */
  at: string;
  /** How many consecutive results made it (the failure threshold). */
  consecutive: number;
  /** The last check's result: HTTP status or the error. */
  last: string;
}

/**
 * One Route 53 HTTP health check, run by the drill itself (moto reports every check as Success):
 * every `requestInterval` seconds a GET of `http://ipAddress:port/resourcePath`; a 2xx or 3xx
 * within the timeout is a success, anything else a failure. The status starts healthy (Route 53
 * treats a new check as healthy until it has results) and flips only after `failureThreshold`
 * consecutive results the other way, in both directions. One checker, where Route 53 has many
 * around the world: a drill on one machine has no partial view of an endpoint. Only loopback
 * endpoints are checked (the networking rule): another address is refused before any request.
 */
export class HealthChecker {
  private healthyNow = true;
  private streak = 0;
  private timer: NodeJS.Timeout | undefined;
  private request: http.ClientRequest | undefined;
  private stopped = false;
  /** Checks run so far (tests, benchmarks). */
  checks = 0;

  constructor(
    readonly config: HealthCheckConfig,
    private readonly onTransition: (transition: HealthTransition) => void,
  ) {
    if (!isLoopbackIPv4(config.ipAddress)) {
      throw new EnvironmentError(
        'HEALTH_CHECK_NOT_LOOPBACK',
        `health check ${config.id} probes ${config.ipAddress}, which is not loopback; the drill's health checker sends traffic to loopback (127.0.0.0/8) endpoints only: point the check at a drill region's address`,
      );
    }
  }

  get endpoint(): string {
    return `http://${this.config.ipAddress}:${this.config.port}${this.config.resourcePath}`;
  }

  get healthy(): boolean {
    return this.healthyNow;
  }

  /** The first check at once, then one per interval (the next one scheduled when the last has ended). */
  start(): void {
    debug('checking %s every %d s, threshold %d', this.endpoint, this.config.requestInterval, this.config.failureThreshold);
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.request?.destroy();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const began = performance.now();
    const result = await this.probe();
    if (this.stopped) return;
    this.checks += 1;
    this.record(result.ok, result.last);
    const intervalMs = this.config.requestInterval * 1000;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, intervalMs - (performance.now() - began)));
    this.timer.unref();
  }

  private record(ok: boolean, last: string): void {
    if (ok === this.healthyNow) {
      this.streak = 0;
      return;
    }
    this.streak += 1;
    if (this.streak < this.config.failureThreshold) return;
    this.healthyNow = ok;
    const consecutive = this.streak;
    this.streak = 0;
    debug('%s is %s after %d consecutive %s (%s)', this.endpoint, ok ? 'healthy' : 'unhealthy', consecutive, ok ? 'successes' : 'failures', last);
    this.onTransition({ healthCheckId: this.config.id, endpoint: this.endpoint, healthy: ok, at: new Date().toISOString(), consecutive, last });
  }

  private probe(): Promise<{ ok: boolean; last: string }> {
    // Always the full 4 s (Route 53's own bound), never cut to the interval: on a loaded machine a
    // 1 s cut would count slow answers of a healthy region as failures and flip DNS by itself.
    // Probes never overlap: the next tick waits for this one.
    const timeoutMs = MAX_REQUEST_MS;
    return new Promise((resolve) => {
      let settled = false;
      const done = (ok: boolean, last: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ok, last });
      };
      const request = http.get({ host: this.config.ipAddress, port: this.config.port, path: this.config.resourcePath, agent: false, headers: { 'user-agent': 'drill-route53-health-checker' } }, (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        done(status >= 200 && status < 400, `HTTP ${status}`);
      });
      this.request = request;
      // A frozen (SIGSTOPped) endpoint accepts the connection and never answers: the timeout is a failure.
      const timer = setTimeout(() => {
        request.destroy();
        done(false, `no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      request.on('error', (error) => done(false, error.message));
    });
  }
}
