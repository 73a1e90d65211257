import { ChangeResourceRecordSetsCommand, CreateHealthCheckCommand, DeleteHealthCheckCommand, GetHealthCheckCommand, ListResourceRecordSetsCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import { EnvironmentError } from '../../engine/errors.js';
import { callRoute53, ROUTE53_RETRY, type Route53RetryPolicy } from './route53-calls.js';
import { absoluteName } from './route53-zone.js';

/** An A record set of a name as the API lists it, failover routing fields included. */
export interface ARecordSet {
  name: string;
  values: string[];
  ttl: number;
  /** PRIMARY or SECONDARY for a failover record set; undefined for a simple one. */
  failover?: 'PRIMARY' | 'SECONDARY';
  setIdentifier?: string;
  healthCheckId?: string;
}

/** An HTTP health check's configuration as Route 53 holds it (what the drill's checker probes). */
export interface HealthCheckConfig {
  id: string;
  ipAddress: string;
  port: number;
  resourcePath: string;
  /** Seconds between two checks. */
  requestInterval: number;
  failureThreshold: number;
}

/**
 * The Route 53 calls of failover routing: health checks (CreateHealthCheck, GetHealthCheck,
 * DeleteHealthCheck) and failover record sets (CREATE/DELETE with Failover, SetIdentifier,
 * HealthCheckId), and the listing of every A record set of a name. Route 53 (and moto) store
 * them; neither is trusted to evaluate them: moto reports every check as Success, so the drill's
 * DNS server runs the checks itself (health-checkers.ts).
 */
export class Route53Failover {
  private readonly changeListeners: Array<() => void> = [];

  constructor(
    private readonly client: Route53Client,
    readonly zoneId: string,
    private readonly retry: Route53RetryPolicy = ROUTE53_RETRY,
  ) {}

  /** `listener` runs after each record change made through this API (the DNS server's cache re-reads at once). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** An HTTP health check of `ipAddress:port` + `resourcePath`; `callerReference` makes it the run's. */
  async createHealthCheck(check: Omit<HealthCheckConfig, 'id'>, callerReference: string): Promise<string> {
    const out = await callRoute53({ operation: 'CreateHealthCheck', zoneId: this.zoneId, record: `${check.ipAddress}:${check.port}${check.resourcePath}` }, () =>
      this.client.send(
        new CreateHealthCheckCommand({
          CallerReference: callerReference,
          HealthCheckConfig: { Type: 'HTTP', IPAddress: check.ipAddress, Port: check.port, ResourcePath: check.resourcePath, RequestInterval: check.requestInterval, FailureThreshold: check.failureThreshold },
        }),
      ), this.retry);
    const id = out.HealthCheck?.Id;
    if (!id) throw new EnvironmentError('ROUTE53_HEALTH_CHECK_FAILED', `Route 53 created no health check for ${check.ipAddress}:${check.port}${check.resourcePath}`);
    return id;
  }

  /** The health check's configuration, read back from the API (what the drill's checker runs). */
  async healthCheck(id: string): Promise<HealthCheckConfig> {
    const out = await callRoute53({ operation: `GetHealthCheck ${id}`, zoneId: this.zoneId }, () => this.client.send(new GetHealthCheckCommand({ HealthCheckId: id })), this.retry);
    const config = out.HealthCheck?.HealthCheckConfig;
    if (!config || config.Type !== 'HTTP' || !config.IPAddress || !config.Port) {
      throw new EnvironmentError('ROUTE53_HEALTH_CHECK_UNSUPPORTED', `health check ${id} is ${config?.Type ?? 'missing'} without an IP address and port; the drill's DNS server runs HTTP checks of an IP address only: create it with Type HTTP, IPAddress and Port`);
    }
    return {
      id,
      ipAddress: config.IPAddress,
      port: config.Port,
      resourcePath: config.ResourcePath ?? '/',
      // Route 53's defaults when a check leaves them out.
      requestInterval: config.RequestInterval ?? 30,
      failureThreshold: config.FailureThreshold ?? 3,
    };
  }

  async deleteHealthCheck(id: string): Promise<void> {
    await callRoute53({ operation: `DeleteHealthCheck ${id}`, zoneId: this.zoneId }, () => this.client.send(new DeleteHealthCheckCommand({ HealthCheckId: id })), this.retry);
  }

  /** CREATE of a failover record set (PRIMARY or SECONDARY, with its health check). */
  async createFailoverA(set: Required<Pick<ARecordSet, 'failover' | 'setIdentifier'>> & ARecordSet): Promise<void> {
    await this.change('CREATE', set);
  }

  /** DELETE of every failover A record set of `name` (what createFailoverA made). */
  async deleteFailoverSets(name: string): Promise<void> {
    for (const set of await this.aRecordSets(name)) if (set.failover) await this.change('DELETE', set);
  }

  /** Every A record set of `name`, simple and failover. */
  async aRecordSets(name: string): Promise<ARecordSet[]> {
    const wanted = absoluteName(name);
    const out = await callRoute53({ operation: 'ListResourceRecordSets', zoneId: this.zoneId }, () =>
      this.client.send(new ListResourceRecordSetsCommand({ HostedZoneId: this.zoneId, StartRecordName: wanted, StartRecordType: 'A', MaxItems: 20 })), this.retry);
    return (out.ResourceRecordSets ?? []).filter((r) => absoluteName(r.Name ?? '') === wanted && r.Type === 'A').map(toSet);
  }

  private async change(action: 'CREATE' | 'DELETE', set: ARecordSet): Promise<void> {
    await callRoute53({ operation: `ChangeResourceRecordSets (${action})`, zoneId: this.zoneId, record: `${set.name} A ${set.failover ?? ''} ${set.values.join(',')}` }, () =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: action,
                ResourceRecordSet: {
                  Name: absoluteName(set.name),
                  Type: 'A',
                  TTL: set.ttl,
                  ResourceRecords: set.values.map((Value) => ({ Value })),
                  ...(set.failover ? { Failover: set.failover, SetIdentifier: set.setIdentifier } : {}),
                  ...(set.healthCheckId ? { HealthCheckId: set.healthCheckId } : {}),
                },
              },
            ],
          },
        }),
      ), this.retry);
    for (const listener of this.changeListeners) listener();
  }
}

function toSet(r: ResourceRecordSet): ARecordSet {
  return {
    name: absoluteName(r.Name ?? ''),
    values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '').filter(Boolean),
    ttl: r.TTL ?? 0,
    ...(r.Failover ? { failover: r.Failover } : {}),
    ...(r.SetIdentifier ? { setIdentifier: r.SetIdentifier } : {}),
    ...(r.HealthCheckId ? { healthCheckId: r.HealthCheckId } : {}),
  };
}
