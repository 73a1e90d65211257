import { ChangeResourceRecordSetsCommand, GetChangeCommand, InvalidChangeBatch, ListResourceRecordSetsCommand, NoSuchHostedZone, PriorRequestNotComplete, Route53ServiceException } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { EnvironmentError, StepFailedError } from '../../src/engine/errors.js';
import { dnsFailover } from '../../src/recovery/dns-failover.js';
import type { Region, RegionSet } from '../../src/targets/regions/types.js';
import { findRegion } from '../../src/targets/regions/types.js';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';

// Real moto is the primary test of the Route 53 side (route53-dns.test.ts). moto cannot be made
// to throttle, to reject a change batch the way Route 53 does, or to lose a zone in the middle of
// a drill; these edges only are shown here, with aws-sdk-client-mock answering the client's
// send() instead of an endpoint. No other behaviour of the drill is tested against the mock.

const NAME = 'api.truststream.drill.test.';
const FAST = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };
const client = Route53Zone.client('http://127.0.0.1:9');
const mock = mockClient(client);
afterEach(() => mock.reset());

const meta = { $metadata: { httpStatusCode: 400 } };
const throttling = () => new Route53ServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', ...meta });
const prior = () => new PriorRequestNotComplete({ message: 'The request was rejected because Route 53 was still processing a prior request.', ...meta });
const invalid = () =>
  new InvalidChangeBatch({ message: 'Invalid change batch', messages: ['Invalid Resource Record: FATAL problem: ARRTypeUnknown (Value is not a valid IPv4 address) encountered with \'127.0.2\''], ...meta });
const noZone = () => new NoSuchHostedZone({ message: 'No hosted zone found with ID: ZGONE', ...meta });
const acked = { ChangeInfo: { Id: '/change/C42', Status: 'PENDING' as const, SubmittedAt: new Date() } };

function zone(id = 'ZTEST'): Route53Zone {
  return Route53Zone.open(client, id, 'truststream.drill.test', { retry: FAST });
}

describe('Route 53 throttling (Throttling, PriorRequestNotComplete)', () => {
  it('is retried with backoff until the call goes through', async () => {
    mock.on(ChangeResourceRecordSetsCommand).rejectsOnce(throttling()).rejectsOnce(prior()).resolves(acked);
    await expect(zone().upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 5 }, 'test')).resolves.toBe('C42');
    expect(mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(3);
  });

  it('past the bound is an environment error (exit 3) that says what happened and what to do', async () => {
    mock.on(GetChangeCommand).rejects(prior());
    const error = await zone().waitInsync('C42', 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({ code: 'ROUTE53_THROTTLED' });
    expect((error as Error).message).toMatch(/PriorRequestNotComplete to GetChange C42 on hosted zone ZTEST after 4 attempts/);
    expect((error as Error).message).toMatch(/wait for it and rerun the drill/);
    expect(exitCodeForError(error)).toBe(3);
    // Bounded: exactly the policy's attempts, not one more.
    expect(mock.commandCalls(GetChangeCommand)).toHaveLength(4);
  });

  it('stops retrying when the drill is interrupted', async () => {
    mock.on(ChangeResourceRecordSetsCommand).rejects(throttling());
    const controller = new AbortController();
    // A backoff of a minute: only the abort can end this wait within the test's timeout.
    const slow = Route53Zone.open(client, 'ZTEST', 'truststream.drill.test', { retry: { attempts: 10, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const pending = slow.upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 5 }, 'test', controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('interrupted'));
    await expect(pending).rejects.toThrow('interrupted');
    expect(mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('negative control: another error (AccessDenied) is neither retried nor renamed', async () => {
    const denied = new Route53ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'User is not authorized', ...meta });
    mock.on(ChangeResourceRecordSetsCommand).rejects(denied);
    await expect(zone().upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 5 }, 'test')).rejects.toBe(denied);
    expect(mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });
});

describe('Route 53 refusing a change or a zone', () => {
  it('InvalidChangeBatch names the record and Route 53\'s message, and is not retried', async () => {
    mock.on(ChangeResourceRecordSetsCommand).rejects(invalid());
    const error = await zone().upsertA({ name: NAME, values: ['127.0.2'], ttl: 5 }, 'test').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ROUTE53_CHANGE_REJECTED', kind: 'environment' });
    expect((error as Error).message).toContain(`change of ${NAME} A 127.0.2 in hosted zone ZTEST`);
    expect((error as Error).message).toContain('Value is not a valid IPv4 address');
    expect(mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('NoSuchHostedZone names the zone id and says what to check (exit 3)', async () => {
    mock.on(ListResourceRecordSetsCommand).rejects(noZone());
    const error = await zone('ZGONE').readA(NAME).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({ code: 'ROUTE53_NO_SUCH_ZONE' });
    expect((error as Error).message).toMatch(/Route 53 has no hosted zone ZGONE .*check the zone id/);
    expect(mock.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(1);
  });
});

describe('the dns-failover step on these errors', () => {
  function context(z: Route53Zone): DrillContext {
    const region = (name: string, role: 'primary' | 'dr', range: string): Region =>
      ({ name, role, range, apiAddresses: [`${range}.1`], processes: { liveInstances: () => [], instances: () => [], kill: async () => [], restart: async () => ({}) }, database: {} as Region['database'] });
    const two = { primary: region('us-west-2', 'primary', '127.0.1'), dr: region('us-east-1', 'dr', '127.0.2') };
    const regions: RegionSet = { ...two, serviceName: NAME, port: 8080, zone: z, dnsServer: '127.0.0.1:9', routing: 'simple', healthTransitions: () => [], find: (ref) => findRegion(two, ref) };
    let t = 0;
    return { regions, runId: 'test-run', signal: new AbortController().signal, clock: { now: () => (t += 1), stamp: () => ({ t, wall: '' }), wallAt: () => '' } } as unknown as DrillContext;
  }

  it('a rejected UPSERT is the step failing (StepFailedError, exit 1), with Route 53\'s reason', async () => {
    mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ Name: NAME, Type: 'A', TTL: 5, ResourceRecords: [{ Value: '127.0.1.1' }] }], IsTruncated: false, MaxItems: 1 });
    mock.on(ChangeResourceRecordSetsCommand).rejects(invalid());
    const error = await dnsFailover(context(zone()), { step: 'dns-failover', to: 'dr', timeout: 5_000 } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error).toMatchObject({ code: 'ROUTE53_CHANGE_REJECTED' });
    expect((error as Error).message).toContain('Value is not a valid IPv4 address');
    expect(exitCodeForError(error)).toBe(1);
  });

  it('a change stuck PENDING past the step\'s timeout is the step failing (exit 1)', async () => {
    // The PENDING wait itself is shown against a loopback HTTP server (route53-pending.test.ts);
    // here only that the step reports it as its own failure.
    mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 1 });
    mock.on(ChangeResourceRecordSetsCommand).resolves(acked);
    mock.on(GetChangeCommand).resolves(acked);
    const error = await dnsFailover(context(zone()), { step: 'dns-failover', to: 'dr', timeout: 300 } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(/Route 53 change C42 is still PENDING after 0\.3 s/);
    expect(exitCodeForError(error)).toBe(1);
  });

  it('negative control: a zone gone from Route 53 stays an environment error (exit 3), not a failed step', async () => {
    mock.on(ListResourceRecordSetsCommand).rejects(noZone());
    const error = await dnsFailover(context(zone('ZGONE')), { step: 'dns-failover', to: 'dr', timeout: 5_000 } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ROUTE53_NO_SUCH_ZONE', kind: 'environment' });
    expect(exitCodeForError(error)).toBe(3);
  });
});
