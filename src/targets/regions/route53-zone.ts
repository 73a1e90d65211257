import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, DeleteHostedZoneCommand, GetChangeCommand, GetHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client, type RRType } from '@aws-sdk/client-route-53';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError, InputError } from '../../engine/errors.js';
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
  private readonly changeListeners: Array<() => void> = [];

  private constructor(
    private readonly client: Route53Client,
    readonly id: string,
    readonly name: string,
    private readonly options: ZoneOptions,
  ) {}

  /** `listener` runs after each change the drill itself makes (the DNS server's cache then re-reads at once). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

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

  /**
   * A client for a Route 53 endpoint that is not the embedded moto (default: AWS itself). The
   * credentials are the SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
   * AWS_SESSION_TOKEN, AWS_PROFILE and the shared files): never the scenario's, never written
   * anywhere by the drill.
   */
  static externalClient(endpoint: string | undefined, region: string): Route53Client {
    return new Route53Client({ ...(endpoint ? { endpoint } : {}), region, maxAttempts: 1 });
  }

  /**
   * An existing zone the drill did not create, by id: its name is checked against `zoneName` (a
   * wrong id stops the drill before anything is written), and every UPSERT is limited to names
   * carrying the run's marker (ownerRun).
   */
  static async openExisting(client: Route53Client, id: string, zoneName: string, options: ZoneOptions & { ownerRun: string }): Promise<Route53Zone> {
    const out = await callRoute53({ operation: 'GetHostedZone', zoneId: id }, () => client.send(new GetHostedZoneCommand({ Id: id })), options.retry ?? ROUTE53_RETRY);
    const actual = absoluteName(out.HostedZone?.Name ?? '');
    if (actual !== absoluteName(zoneName)) {
      throw new InputError(
        'ROUTE53_ZONE_MISMATCH',
        `hosted zone ${id} is ${actual}, not ${absoluteName(zoneName)} (targets.regions.dns.zone); give the zone's own name in targets.regions.dns.zone, or the id of the zone you meant in targets.regions.dns.route53.hostedZoneId. Nothing was changed.`,
      );
    }
    return new Route53Zone(client, id, actual, options);
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
    for (const listener of this.changeListeners) listener();
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

  /**
   * Removes `name`'s A record sets and owner marker. With `runId`, only while the marker is that
   * run's (a zone the drill did not create: another run's or someone's records are left alone);
   * returns whether anything was deleted.
   */
  async deleteOwned(name: string, runId?: string): Promise<boolean> {
    const wanted = absoluteName(name);
    const sets = await this.recordSets(wanted);
    if (runId !== undefined && markedBy(sets) !== runId) return false;
    let deleted = false;
    // The A records first, the marker last: a name is never left with records and no marker.
    const ordered = [...sets.filter((s) => s.type === 'A'), ...sets.filter((s) => s.type === 'TXT' && markedBy([s]) !== undefined)];
    for (const set of ordered) {
      await this.change('DELETE', { name: wanted, type: set.type, values: set.values, ttl: set.ttl });
      deleted = true;
    }
    return deleted;
  }

  /**
   * The drill-target rule for names (record-ownership.ts): refuse a name with foreign records, or
   * one another run marked (its reaper's, or a concurrent drill's), claim a free one by writing
   * the run's marker.
   */
  async claim(name: string, signal?: AbortSignal): Promise<void> {
    const runId = this.options.ownerRun;
    if (runId === undefined) return;
    await this.requireOwned(absoluteName(name), runId, signal);
  }

  private async requireOwned(name: string, runId: string, signal?: AbortSignal): Promise<void> {
    const sets = await this.recordSets(name);
    if (ownership(this.id, name, sets) === 'owned') {
      const owner = markedBy(sets);
      if (owner === runId) return;
      throw new InputError(
        'ROUTE53_RECORD_OTHER_RUN',
        `${name} in hosted zone ${this.id} carries the marker of drill run ${owner}, not of this run; run drill cleanup (it removes a killed run's records), or give targets.regions.dns another record name. Nothing was changed.`,
      );
    }
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
    for (const listener of this.changeListeners) listener();
  }

  /** One API call on this zone through callRoute53 (throttling retried, errors typed). */
  private call<T>(call: { operation: string; record?: string }, signal: AbortSignal | undefined, send: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
    return callRoute53({ ...call, zoneId: this.id }, () => send(signal ? { abortSignal: signal } : {}), this.retry, signal);
  }
}
