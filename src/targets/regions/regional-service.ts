import type { PlainService } from '../service/plain-service.js';
import type { ServiceComponent, ServiceEndpoint, ServiceTarget } from '../service/types.js';
import type { CachingResolver } from './caching-resolver.js';

/**
 * The service as clients reach it in a multi-region deployment: by name. Every request first
 * resolves the service name through the client's caching resolver (the drill's DNS server, answers
 * kept for their TTL) and goes to one of the addresses it got, on the service's port; so after a
 * failover, a client keeps sending to the lost region until its cached answer expires, and that
 * time is in the RTO the probes measure. No restart or database switch here: a region's processes
 * own their addresses (a second launch could not bind them beside the first).
 */
export class RegionalService implements ServiceTarget {
  private currentToken: string;

  constructor(
    private readonly regions: ReadonlyArray<{ name: string; role: string; service: PlainService }>,
    private readonly resolver: CachingResolver,
    private readonly serviceName: string,
    private readonly port: number,
    token: string,
    readonly tokenName: string,
  ) {
    this.currentToken = token;
  }

  get description(): string {
    const parts = this.regions.map((r) => `${r.name} (${r.role}): ${r.service.description.replace(/^TrustStram \S+ as /, '')}`).join('; ');
    return `TrustStram ${this.version} in ${this.regions.length} regions, reached as ${this.serviceName.replace(/\.$/, '')}:${this.port} through the drill's DNS server (${parts})`;
  }

  get version(): string {
    return this.regions[0]!.service.version;
  }

  get token(): string {
    return this.currentToken;
  }

  replaceToken(token: string): void {
    this.currentToken = token;
    for (const r of this.regions) r.service.replaceToken(token);
  }

  /** The name's addresses as this client resolves them now (cached for the TTL); readers are not behind the name. */
  async endpoints(component: ServiceComponent = 'api'): Promise<ServiceEndpoint[]> {
    if (component !== 'api') return [];
    const answer = await this.resolver.resolve(this.serviceName);
    return answer.addresses.map((address) => ({ name: `${this.serviceName.replace(/\.$/, '')}@${address}`, url: `http://${address}:${this.port}` }));
  }

  /** Every running process of every region: monitoring scrapes them directly, not by name. */
  async metricsEndpoints(): Promise<ServiceEndpoint[]> {
    return (await Promise.all(this.regions.map((r) => r.service.metricsEndpoints()))).flat();
  }

  /** One region's service as its own processes, by address (no DNS): the runbook's "DR environment". */
  regionService(name: string): ServiceTarget | undefined {
    return this.regions.find((r) => r.name === name)?.service;
  }

  readonly errorLogs = {
    errorLines: async () => (await Promise.all(this.regions.map((r) => r.service.errorLogs.errorLines()))).reduce((a, b) => a + b, 0),
  };
}
