import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProbe } from '../../src/workload/probes/http-probe.js';

let server: http.Server;
let base: string;
let status = 200;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    res.statusCode = status;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('HTTP probe (real server on loopback)', () => {
  const signal = new AbortController().signal;
  it('passes on the expected status', async () => {
    status = 200;
    await expect(new HttpProbe('h', `${base}/health`, 200, 100, 1000, true).check(signal)).resolves.toBeUndefined();
  });
  it('fails on another status, naming it', async () => {
    status = 503;
    await expect(new HttpProbe('h', `${base}/health`, 200, 100, 1000, true).check(signal)).rejects.toThrow(/HTTP 503/);
  });
  it('fails on a timeout and on a refused connection', async () => {
    await expect(new HttpProbe('h', `${base}/slow`, 200, 100, 200, true).check(signal)).rejects.toThrow();
    await expect(new HttpProbe('h', 'http://127.0.0.1:1/health', 200, 100, 500, true).check(signal)).rejects.toThrow();
  });
});
