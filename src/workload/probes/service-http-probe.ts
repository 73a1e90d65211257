import type { ServiceComponent, ServiceEndpoints } from '../../targets/service/types.js';
import { ServiceClient, type TokenSource } from '../service-client.js';
import { checkClock } from './clock-check.js';
import type { ProbeCheck } from './probe.js';

/**
 * GETs a path on the service the way its users reach it: each sample goes to the next of the
 * service's current endpoints (round-robin, as a load balancer or kube-proxy routes), so one bad
 * instance fails the samples that land on it. No endpoint at all is a failing sample. A path
 * under /api/ is sent with the drill's API token, as an authenticated user's request. With
 * `maxClockSkewMs` the answer's Date header must also agree with the drill's clock (clock-skew).
 */
export class ServiceHttpProbe implements ProbeCheck {
  private readonly client: ServiceClient;

  constructor(
    readonly name: string,
    endpoints: ServiceEndpoints,
    component: ServiceComponent,
    private readonly path: string,
    private readonly expectStatus: number,
    readonly intervalMs: number,
    readonly timeoutMs: number,
    readonly service: boolean,
    token?: TokenSource,
    /** maxClockSkew: also fail when the answer's Date header is further than this from the drill's clock. */
    private readonly maxClockSkewMs?: number,
  ) {
    this.client = new ServiceClient(endpoints, component, token);
    this.authenticated = token !== undefined && path.startsWith('/api/');
  }

  private readonly authenticated: boolean;

  /** The endpoint the sample in flight went to (undefined while the endpoints are still being asked for). */
  private sentTo: string | undefined;

  inFlightTarget(): string | undefined {
    return this.sentTo;
  }

  async check(signal: AbortSignal): Promise<void> {
    this.sentTo = undefined;
    const endpoint = await this.client.next();
    this.sentTo = `${endpoint.name} ${this.path}`;
    const sentWallMs = Date.now();
    const reply = await this.client.request('GET', this.path, { endpoint, timeoutMs: this.timeoutMs, signal, authenticated: this.authenticated });
    if (this.maxClockSkewMs !== undefined) checkClock(reply.date, sentWallMs, Date.now(), this.maxClockSkewMs, `${reply.endpoint.name} ${this.path}`);
    if (reply.status !== this.expectStatus) {
      const body = reply.body as { reason?: string; error?: string } | string;
      const why = typeof body === 'object' && body !== null ? (body.reason ?? body.error) : undefined;
      throw new Error(`HTTP ${reply.status}${why ? ` ${why}` : ''} from ${reply.endpoint.name} ${this.path}, expected ${this.expectStatus}`);
    }
  }

  async close(): Promise<void> {}
}
