import type { ServiceEndpoints } from '../../targets/service/types.js';
import { ServiceClient } from '../service-client.js';
import { isLoopbackHost, type CredentialUse, type UseOutcome } from './credential-use.js';

/**
 * A leaked API token used as its thief would: `GET path` with it, on the service's API endpoints in
 * turn, from a client of its own (not the drill's probes, not the drill's token). 2xx: allowed;
 * 401/403: rejected; anything else, or no answer: proves neither.
 */
export class ApiTokenUse implements CredentialUse {
  private readonly client: ServiceClient;

  constructor(
    endpoints: ServiceEndpoints,
    token: string,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {
    this.client = new ServiceClient(endpoints, 'api', token);
  }

  get description(): string {
    return `GET ${this.path}`;
  }

  async use(signal: AbortSignal): Promise<UseOutcome> {
    try {
      const endpoint = await this.client.next();
      if (!isLoopbackHost(new URL(endpoint.url).hostname)) return { outcome: 'error', endpoint: endpoint.name, error: `${endpoint.name} is not on loopback: not contacted` };
      const reply = await this.client.request('GET', this.path, { timeoutMs: this.timeoutMs, authenticated: true, endpoint, signal });
      const outcome = reply.status >= 200 && reply.status < 300 ? 'allowed' : reply.status === 401 || reply.status === 403 ? 'rejected' : 'error';
      return { outcome, status: reply.status, endpoint: endpoint.name };
    } catch (error) {
      return { outcome: 'error', error: error instanceof Error ? error.message : String(error) };
    }
  }

  async close(): Promise<void> {}
}
