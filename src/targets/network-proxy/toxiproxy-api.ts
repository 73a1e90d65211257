import { EnvironmentError } from '../../engine/errors.js';

/** A proxy as Toxiproxy's HTTP API describes it. */
export interface ToxiproxyProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxiproxyToxic[];
}

/** A toxic (https://github.com/Shopify/toxiproxy#toxics): type, direction and its attributes. */
export interface ToxiproxyToxic {
  name: string;
  type: 'latency' | 'bandwidth' | 'reset_peer' | 'timeout' | 'slow_close' | 'slicer' | 'limit_data';
  /** downstream: server → client; upstream: client → server. */
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
}

/** The few calls of Toxiproxy's HTTP API the drill makes: the boundary a test can stand in for. */
export interface ToxiproxyApi {
  version(): Promise<string>;
  createProxy(proxy: { name: string; listen: string; upstream: string }): Promise<ToxiproxyProxy>;
  /** Changes the upstream (Toxiproxy restarts the proxy: open connections are closed). */
  setUpstream(name: string, upstream: string): Promise<ToxiproxyProxy>;
  proxy(name: string): Promise<ToxiproxyProxy | undefined>;
  addToxic(proxy: string, toxic: ToxiproxyToxic): Promise<ToxiproxyToxic>;
  /** False when the toxic was not there. */
  removeToxic(proxy: string, toxic: string): Promise<boolean>;
}

/** Toxiproxy's API over plain fetch, on its loopback address. */
export class ToxiproxyHttpApi implements ToxiproxyApi {
  constructor(
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async version(): Promise<string> {
    const body = await this.call('GET', '/version');
    // 2.12 answers JSON ({"version": "2.12.0"}); older releases a plain string.
    return typeof body === 'object' && body !== null && 'version' in body ? String((body as { version: unknown }).version) : String(body).trim();
  }

  async createProxy(proxy: { name: string; listen: string; upstream: string }): Promise<ToxiproxyProxy> {
    return (await this.call('POST', '/proxies', { ...proxy, enabled: true })) as ToxiproxyProxy;
  }

  async setUpstream(name: string, upstream: string): Promise<ToxiproxyProxy> {
    return (await this.call('POST', `/proxies/${encodeURIComponent(name)}`, { upstream })) as ToxiproxyProxy;
  }

  async proxy(name: string): Promise<ToxiproxyProxy | undefined> {
    const body = await this.call('GET', `/proxies/${encodeURIComponent(name)}`, undefined, [404]);
    return body === undefined ? undefined : (body as ToxiproxyProxy);
  }

  async addToxic(proxy: string, toxic: ToxiproxyToxic): Promise<ToxiproxyToxic> {
    return (await this.call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic)) as ToxiproxyToxic;
  }

  async removeToxic(proxy: string, toxic: string): Promise<boolean> {
    const body = await this.call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`, undefined, [404]);
    return body !== undefined;
  }

  /** One request; a status in `absent` is undefined, any other non-2xx an error naming the call and Toxiproxy's message. */
  private async call(method: string, path: string, body?: unknown, absent: number[] = []): Promise<unknown> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.endpoint}${path}`, {
        method,
        ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      // The drill's own proxy not answering is the machine's problem, not the runbook's (exit 3).
      throw new EnvironmentError(
        'TOXIPROXY_UNREACHABLE',
        `Toxiproxy at ${this.endpoint} did not answer ${method} ${path} (${error instanceof Error ? error.message : String(error)}); is its process still running? (DEBUG=drill:net)`,
        { cause: error },
      );
    }
    if (absent.includes(response.status)) return undefined;
    if (!response.ok) throw new EnvironmentError('TOXIPROXY_REFUSED', `Toxiproxy ${method} ${path}: HTTP ${response.status} ${text.trim().slice(0, 300)}`);
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}
