import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';

// moto says INSYNC at once, so a change that stays PENDING (real Route 53 under load) cannot be
// shown with it: a loopback HTTP server answers GetChange with PENDING instead.
let server: http.Server;
let endpoint: string;
let asked = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    asked += 1;
    const status = req.url?.includes('/change/CDONE') ? 'INSYNC' : 'PENDING';
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C1</Id><Status>${status}</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

describe('waiting for a Route 53 change', () => {
  it('a change stuck PENDING fails after the timeout, naming the change and its status', async () => {
    const client = Route53Zone.client(endpoint);
    const zone = Route53Zone.open(client, 'ZTEST', 'truststream.drill.test');
    const before = asked;
    await expect(zone.waitInsync('CSTUCK', 600)).rejects.toThrow(/Route 53 change CSTUCK is still PENDING after 0\.6 s/);
    // It polled, not asked once and gave up.
    expect(asked - before).toBeGreaterThan(1);
    // Negative control: the same wait returns once the change is INSYNC.
    await expect(zone.waitInsync('CDONE', 600)).resolves.toBeUndefined();
    client.destroy();
  });
});
