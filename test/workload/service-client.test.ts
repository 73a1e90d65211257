import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceClient } from '../../src/workload/service-client.js';
import { ServiceHttpProbe } from '../../src/workload/probes/service-http-probe.js';
import type { ServiceEndpoint } from '../../src/targets/service/types.js';

// Two real HTTP servers on loopback standing in for two API processes; each answers with its name.
const servers: Server[] = [];
const endpoints: ServiceEndpoint[] = [];

beforeAll(async () => {
  for (const name of ['api-1', 'api-2']) {
    const server = createServer((_request, response) => {
      response.writeHead(name === 'api-2' ? 500 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ name }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    endpoints.push({ name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const service = { endpoints: async () => endpoints };

describe('ServiceClient round-robin (real HTTP on loopback)', () => {
  it('sends each request to the next endpoint in turn', async () => {
    const client = new ServiceClient(service);
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push((await client.request('GET', '/x', { timeoutMs: 5_000 })).endpoint.name);
    expect(names).toEqual(['api-1', 'api-2', 'api-1', 'api-2', 'api-1']);
  });

  it('a service probe alternates too: every other sample lands on the failing process (negative control: the good one passes)', async () => {
    const probe = new ServiceHttpProbe('p', service, 'api', '/x', 200, 250, 5_000, true);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await probe.check(new AbortController().signal).then(
          () => 'ok',
          (error: Error) => error.message,
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'HTTP 500 from api-2 /x, expected 200', 'ok', 'HTTP 500 from api-2 /x, expected 200']);
  });
});
