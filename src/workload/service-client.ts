import type { ServiceComponent, ServiceEndpoint, ServiceEndpoints } from '../targets/service/types.js';

/**
 * The bearer token a client sends: fixed, or read before every request (the drill's own token,
 * which an emergency revocation replaces with a new one).
 */
export type TokenSource = string | (() => string);

export interface ServiceReply {
  status: number;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
  endpoint: ServiceEndpoint;
  ms: number;
  /** The answer's Date header (the process's own clock, to the second). */
  date: string | null;
}

export interface RequestOptions {
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Send the drill's bearer token (the /api/* routes need it). */
  authenticated?: boolean;
  /** Send to this endpoint instead of the next one in turn. */
  endpoint?: ServiceEndpoint;
}

/**
 * A client of the service as its users have one: every request goes to the next of the current
 * endpoints in turn (round-robin, as a load balancer spreads traffic), the list asked afresh each
 * time so a restart or rollout is followed. The token stays in memory and in the Authorization
 * header; it is never part of a message.
 */
export class ServiceClient {
  private turn = 0;

  constructor(
    private readonly service: ServiceEndpoints,
    private readonly component: ServiceComponent = 'api',
    private readonly token?: TokenSource,
  ) {}

  async next(): Promise<ServiceEndpoint> {
    const endpoints = await this.service.endpoints(this.component);
    if (endpoints.length === 0) throw new Error(`the service has no ${this.component} endpoint to send to`);
    const endpoint = endpoints[this.turn % endpoints.length]!;
    this.turn = (this.turn + 1) % Number.MAX_SAFE_INTEGER;
    return endpoint;
  }

  async request(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<ServiceReply> {
    const endpoint = options.endpoint ?? (await this.next());
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.authenticated) {
      const token = typeof this.token === 'function' ? this.token() : this.token;
      if (!token) throw new Error('this client has no API token');
      headers.authorization = `Bearer ${token}`;
    }
    const started = performance.now();
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${endpoint.url}${path}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal,
      });
    } catch (error) {
      const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : causeOf(error);
      throw new Error(`${method} ${path} on ${endpoint.name}: ${why}`, { cause: error });
    }
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON after all: keep the text
      }
    }
    return { status: response.status, body, endpoint, ms: performance.now() - started, date: response.headers.get('date') };
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, a reset) in its cause. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
