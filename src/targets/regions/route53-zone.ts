import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, DeleteHostedZoneCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client, type RRType } from '@aws-sdk/client-route-53';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import { ownerMarker, markedBy, ownership, type NamedRecordSet } from './record-ownership.js';
import { callRoute53, ROUTE53_RETRY, type Route53RetryPolicy } from './route53-calls.js';

/** An A record set as Route 53 holds it. */
export interface ARecord {
  name: string;
  values: string[];
  /** Seconds, as Route 53 stores it. */
  ttl: number;
}

/** `name` in the absolute form Route 53 answers with: lower case, one trailing dot. */
export function absoluteName(name: string): string {
  return `${name.toLowerCase().replace(/\.+$/, '')}.`;
}

export interface ZoneOptions {
  /** Throttling retries (ROUTE53_RETRY unless a test shortens them). */
  retry?: Route53RetryPolicy;
  /**
   * Set for an endpoint other than the embedded moto (a zone the drill did not create): the run
   * whose owner marker every UPSERT checks or writes first (record-ownership.ts).
   */
  ownerRun?: string;
}

/**
 * One hosted zone through the Route 53 API (`@aws-sdk/client-route-53`): the embedded moto server
 * or any endpoint that speaks the API. Only what the drill created: the embedded moto's zone is
 * created per drill (its caller reference carries the run id) and deleted at teardown; in a zone
 * the drill did not create, `ownerRun` limits every UPSERT to names carrying drill's marker.
 * Every call goes through callRoute53 (throttling retried, Route 53's errors typed).
 */
export class Route53Zone {
  private constructor(
    private readonly client: Route53Client,
    readonly id: string,
    readonly name: string,
    private readonly options: ZoneOptions,
  ) {}

  private get retry(): Route53RetryPolicy {
    return this.options.retry ?? ROUTE53_RETRY;
  }

  /**
   * A client for `endpoint`. moto accepts any credentials: these are fixed placeholders, no secret.
   * One attempt per send: throttling is retried by callRoute53, with its own bound and message.
   */
  static client(endpoint: string): Route53Client {
    return new Route53Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' }, maxAttempts: 1 });
  }

  /** A zone that exists already, by id (`Z...`, without `/hostedzone/`) and name. */
  static open(client: Route53Client, id: string, zoneName: string, options: ZoneOptions = {}): Route53Zone {
    return new Route53Zone(client, id, absoluteName(zoneName), options);
  }

  static async create(client: Route53Client, zoneName: string, runId: string, options: ZoneOptions = {}): Promise<Route53Zone> {
    const retry = options.retry ?? ROUTE53_RETRY;
    const created = await callRoute53({ operation: 'CreateHostedZone', zoneId: `(new) ${absoluteName(zoneName)}` }, () =>
      client.send(new CreateHostedZoneCommand({ Name: absoluteName(zoneName), CallerReference: `drill-${runId}-${Date.now()}`, HostedZoneConfig: { Comment: `drill run ${runId}` } })), retry);
    const id = created.HostedZone?.Id;
    if (!id) throw new EnvironmentError('ROUTE53_ZONE_FAILED', `Route 53 created no hosted zone for ${zoneName}`);
    return new Route53Zone(client, id.replace(/^\/hostedzone\//, ''), absoluteName(zoneName), options);
  }

  /** UPSERT of an A record; returns the change id Route 53 acknowledged it with. */
  async upsertA(record: ARecord, comment: string, signal?: AbortSignal): Promise<string> {
    if (this.options.ownerRun) await this.requireOwned(absoluteName(record.name), this.options.ownerRun, signal);
    const out = await this.call({ operation: 'ChangeResourceRecordSets (UPSERT)', record: `${absoluteName(record.name)} A ${record.values.join(',')}` }, signal, (options) =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.id,
          ChangeBatch: {
            Comment: comment,
            Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: absoluteName(record.name), Type: 'A', TTL: record.ttl, ResourceRecords: record.values.map((Value) => ({ Value })) } }],
          },
        }),
        options,
      ),
    );
    const id = out.ChangeInfo?.Id;
    if (!id) throw new EnvironmentError('ROUTE53_CHANGE_FAILED', `Route 53 acknowledged the UPSERT of ${record.name} without a change id`);
    return id.replace(/^\/change\//, '');
  }

  /** Polls GetChange until INSYNC (moto says INSYNC at once: drill's own DNS server is what is verified after). */
  async waitInsync(changeId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = await this.call({ operation: `GetChange ${changeId}` }, signal, (options) => this.client.send(new GetChangeCommand({ Id: changeId }), options));
      if (out.ChangeInfo?.Status === 'INSYNC') return;
      if (Date.now() > deadline) throw new EnvironmentError('ROUTE53_CHANGE_PENDING', `Route 53 change ${changeId} is still ${out.ChangeInfo?.Status ?? 'unknown'} after ${timeoutMs / 1000} s`);
      await sleep(250, signal);
    }
  }

  /** The A record set of `name`, or undefined when the zone has none. */
  async readA(name: string): Promise<ARecord | undefined> {
    const wanted = absoluteName(name);
    const out = await this.call({ operation: 'ListResourceRecordSets' }, undefined, (options) =>
      this.client.send(new ListResourceRecordSetsCommand({ HostedZoneId: this.id, StartRecordName: wanted, StartRecordType: 'A', MaxItems: 1 }), options),
    );
    const set = out.ResourceRecordSets?.find((r) => absoluteName(r.Name ?? '') === wanted && r.Type === 'A');
    if (!set) return undefined;
    return { name: wanted, values: (set.ResourceRecords ?? []).map((r) => r.Value ?? '').filter(Boolean), ttl: set.TTL ?? 0 };
  }

  /** Whether `name` lies in this zone. */
  contains(name: string): boolean {
    const n = absoluteName(name);
    return n === this.name || n.endsWith(`.${this.name}`);
  }

  /** Every record set of `name` (all types), as the API lists them. */
  async recordSets(name: string): Promise<Array<NamedRecordSet & { ttl: number }>> {
    const wanted = absoluteName(name);
    const out = await this.call({ operation: 'ListResourceRecordSets' }, undefined, (options) =>
      this.client.send(new ListResourceRecordSetsCommand({ HostedZoneId: this.id, StartRecordName: wanted, MaxItems: 20 }), options),
    );
    return (out.ResourceRecordSets ?? [])
      .filter((r) => absoluteName(r.Name ?? '') === wanted)
      .map((r) => ({ type: r.Type ?? '', values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ''), ttl: r.TTL ?? 0 }));
  }

  /** Deletes the zone's records the drill made (A and its owner marker), then the zone (Route 53 refuses a zone with records). */
  async delete(names: readonly string[]): Promise<void> {
    for (const name of names) await this.deleteOwned(name);
    await this.call({ operation: 'DeleteHostedZone' }, undefined, (options) => this.client.send(new DeleteHostedZoneCommand({ Id: this.id }), options));
  }

  /** Removes `name`'s A record and owner marker (a drill-owned name in a zone the drill did not create). */
  async deleteOwned(name: string): Promise<void> {
    const wanted = absoluteName(name);
    for (const set of await this.recordSets(wanted)) {
      if (set.type !== 'A' && !(set.type === 'TXT' && markedBy([set]) !== undefined)) continue;
      await this.change('DELETE', { name: wanted, type: set.type, values: set.values, ttl: set.ttl });
    }
  }

  /** The drill-target rule for names (record-ownership.ts): refuse a name with foreign records, claim a free one. */
  private async requireOwned(name: string, runId: string, signal?: AbortSignal): Promise<void> {
    if (ownership(this.id, name, await this.recordSets(name)) === 'owned') return;
    await this.change('UPSERT', { name, type: 'TXT', values: [ownerMarker(runId)], ttl: 300 }, signal);
  }

  private async change(action: 'UPSERT' | 'DELETE', set: { name: string; type: string; values: string[]; ttl: number }, signal?: AbortSignal): Promise<void> {
    await this.call({ operation: `ChangeResourceRecordSets (${action})`, record: `${set.name} ${set.type}` }, signal, (options) =>
      this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.id,
          ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: { Name: set.name, Type: set.type as RRType, TTL: set.ttl, ResourceRecords: set.values.map((Value) => ({ Value })) } }] },
        }),
        options,
      ),
    );
  }

  /** One API call on this zone through callRoute53 (throttling retried, errors typed). */
  private call<T>(call: { operation: string; record?: string }, signal: AbortSignal | undefined, send: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
    return callRoute53({ ...call, zoneId: this.id }, () => send(signal ? { abortSignal: signal } : {}), this.retry, signal);
  }
}
