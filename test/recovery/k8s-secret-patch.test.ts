import { describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { k8sSecretPatch } from '../../src/recovery/k8s-secret-patch.js';
import { Redactor } from '../../src/report/redactor.js';
import { recoveryStep } from '../../src/scenario/schema.js';
import { applicationConnection, databaseUrl } from '../../src/targets/kubernetes/database-url.js';
import { HOST_IP } from '../../src/targets/network/layout.js';

// The apiserver is faked here to reach the failure paths a real one does not take on demand
// (a patch rejected with the body quoted, a patch that does not stick); the success path runs on
// the real control plane in test/kubernetes/k8s-steps.test.ts.
const SECRET = 's3cr3t-Pa55';

function fakeContext(api: { patch?: (body: unknown) => Promise<unknown>; stored?: () => string | undefined }) {
  const events: unknown[] = [];
  const secrets = new Redactor();
  let stored: string | undefined;
  const ctx = {
    k8s: {
      namespace: 'drill-ns',
      requireDrillTarget: async () => undefined,
      api: {
        core: {
          patchNamespacedSecret: async (req: { body: { data: Record<string, string> } }) => {
            stored = Object.values(req.body.data)[0];
            return api.patch ? api.patch(req.body) : {};
          },
          readNamespacedSecret: async () => ({ data: { DB_PASSWORD: api.stored ? api.stored() : stored } }),
        },
      },
    },
    recorder: { event: (...args: unknown[]) => events.push(args), secrets },
    router: {
      connection: { host: '127.0.0.1', port: 5432, user: 'app', password: 'Primary-Pw-77', database: 'truststream' },
      current: { name: 'pg-2' },
    },
    // As in a drill network: the pods reach the harness's loopback database at the network's host address.
    applicationDatabaseUrl: (c: Parameters<typeof applicationConnection>[0]) => databaseUrl(applicationConnection(c, HOST_IP)),
  } as unknown as DrillContext;
  return { ctx, events, secrets, stored: () => stored };
}

const literal = recoveryStep.parse({ step: 'k8s-secret-patch', secret: 'db', key: 'DB_PASSWORD', value: { value: SECRET }, restart: [] });
const base64 = Buffer.from(SECRET).toString('base64');

describe('k8s-secret-patch keeps the value out of output, events and errors', () => {
  it('a literal value (not a URL) is shown as [REDACTED] with its length, and registered with the run\'s Redactor', async () => {
    const { ctx, events, secrets } = fakeContext({});
    const out = await k8sSecretPatch(ctx, literal as Parameters<typeof k8sSecretPatch>[1]);
    expect(out.value).toBe(`[REDACTED] (${SECRET.length} characters)`);
    expect(secrets.redact(`later: ${SECRET} / ${base64}`)).toBe('later: [REDACTED] / [REDACTED]');
    const seen = JSON.stringify(out) + JSON.stringify(events);
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain(base64);
  });

  it('PATCH_NOT_APPLIED does not name the value', async () => {
    const { ctx, events } = fakeContext({ stored: () => Buffer.from('old').toString('base64') });
    const error = (await k8sSecretPatch(ctx, literal as Parameters<typeof k8sSecretPatch>[1]).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('PATCH_NOT_APPLIED');
    expect(error.message + JSON.stringify(events)).not.toContain(SECRET);
  });

  it('PATCH_REJECTED does not pass on the value or its base64 quoted by the apiserver', async () => {
    const { ctx } = fakeContext({
      patch: async () => {
        throw Object.assign(new Error('HTTP 422'), { code: 422, body: { message: `invalid value "${SECRET}" (data: ${base64})` } });
      },
    });
    const error = (await k8sSecretPatch(ctx, literal as Parameters<typeof k8sSecretPatch>[1]).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('PATCH_REJECTED');
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(base64);
  });

  it('current-primary is shown as the URL the pods got, without the password', async () => {
    const { ctx, events, stored } = fakeContext({});
    const step = recoveryStep.parse({ step: 'k8s-secret-patch', secret: 'db', key: 'DB_PASSWORD', value: 'current-primary', restart: [] });
    const out = await k8sSecretPatch(ctx, step as Parameters<typeof k8sSecretPatch>[1]);
    // The Secret holds what the pods need (their address for the database, the password) ...
    expect(Buffer.from(stored()!, 'base64').toString()).toBe(`postgresql://app:Primary-Pw-77@${HOST_IP}:5432/truststream`);
    // ... and the journal says where they were pointed, not the harness's loopback view.
    expect(out).toMatchObject({ value: `postgresql://app@${HOST_IP}:5432/truststream`, instance: 'pg-2' });
    expect(JSON.stringify(out) + JSON.stringify(events)).not.toContain('Primary-Pw-77');
  });
});
