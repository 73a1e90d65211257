import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { commonFreePort, regionAddress, regionAddresses } from '../../src/targets/regions/region-layout.js';
import { childEnvironment } from '../../src/targets/service/service-environment.js';

describe('a region\'s addresses on loopback', () => {
  it('gives each process its own address of the region\'s /24', () => {
    expect(regionAddress('127.0.2.0/24', 'api', 1)).toBe('127.0.2.1');
    expect(regionAddress('127.0.2.0/24', 'worker', 2)).toBe('127.0.2.22');
    expect(regionAddresses('127.0.1.0/24', { api: 2, worker: 1, scheduler: 0 })).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.21']);
  });

  it('picks a port that every address of both regions can bind', async () => {
    const hosts = regionAddresses('127.0.1.0/24', { api: 2, worker: 1 }).concat(regionAddresses('127.0.2.0/24', { api: 2, worker: 1 }));
    const port = await commonFreePort(hosts);
    const servers = hosts.map(() => net.createServer());
    try {
      await Promise.all(servers.map((server, i) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, hosts[i], resolve))));
    } finally {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
    }
  });

  it('the service binds what the region gives it, and never an address outside 127.0.0.0/8', () => {
    const env = { databaseUrl: 'postgres://x@127.0.0.1/db', version: '4.4.0' };
    expect(childEnvironment('api', 8080, { ...env, bind: '127.0.2.1', region: 'us-east-1' })).toMatchObject({ BIND: '127.0.2.1', REGION: 'us-east-1' });
    expect(childEnvironment('api', 8080, env).BIND).toBe('127.0.0.1');
    expect(() => childEnvironment('api', 8080, { ...env, bind: '10.0.0.1' })).toThrow(/loopback/);
    expect(() => childEnvironment('api', 8080, { ...env, bind: '0.0.0.0' })).toThrow(/loopback/);
  });
});
