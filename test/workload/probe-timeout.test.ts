import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { ProbeSample } from '../../src/engine/journal-types.js';
import { HttpProbe } from '../../src/workload/probes/http-probe.js';
import { ProbeRunner } from '../../src/workload/probes/probe-runner.js';
import { ServiceHttpProbe } from '../../src/workload/probes/service-http-probe.js';

// A listener that accepts and never answers, as a frozen process's socket does (the kernel completes the handshake).
let silent: net.Server;
let port = 0;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  silent = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

async function firstSample(probe: ConstructorParameters<typeof ProbeRunner>[0][number]): Promise<ProbeSample> {
  const samples: ProbeSample[] = [];
  const runner = new ProbeRunner([probe], startClock(), (s) => samples.push(s));
  runner.start();
  while (samples.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await runner.stop();
  return samples[0]!;
}

describe('a probe sample that outlives its timeout names where it was sent', () => {
  it('a service probe: the endpoint it went to (round-robin), and the path', async () => {
    const endpoints = { endpoints: async () => [{ name: 'api.truststream.drill.test@127.0.0.1', url: `http://127.0.0.1:${port}` }] };
    const sample = await firstSample(new ServiceHttpProbe('api-health', endpoints, 'api', '/health', 200, 1000, 300, true));
    expect(sample.ok).toBe(false);
    expect(sample.error).toBe('timed out after 300ms (api.truststream.drill.test@127.0.0.1 /health)');
  });

  it('a URL probe: its URL', async () => {
    const sample = await firstSample(new HttpProbe('url-health', `http://127.0.0.1:${port}/health`, 200, 1000, 300, true));
    expect(sample.error).toBe(`timed out after 300ms (http://127.0.0.1:${port}/health)`);
  });

  it('a service probe still asking for its endpoints says nothing it does not know', async () => {
    const endpoints = { endpoints: () => new Promise<never>(() => undefined) };
    const sample = await firstSample(new ServiceHttpProbe('api-health', endpoints, 'api', '/health', 200, 1000, 300, true));
    expect(sample.error).toBe('timed out after 300ms');
  });
});
