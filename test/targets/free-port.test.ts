import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bindable, ephemeralPortRange, freeLoopbackPort, listenPortRange } from '../../src/targets/postgres/free-port.js';

const closers: Array<() => void> = [];
afterEach(() => {
  while (closers.length) closers.pop()!();
});

describe('listenPortRange', () => {
  it('is below the ephemeral range, from 10000, and below the NodePort range', () => {
    expect(listenPortRange({ low: 32768, high: 60999 })).toEqual({ low: 10000, high: 29999 });
    expect(listenPortRange({ low: 20000, high: 60999 })).toEqual({ low: 10000, high: 19999 });
  });

  it('is above it when there is no room below', () => {
    expect(listenPortRange({ low: 1024, high: 50000 })).toEqual({ low: 50001, high: 65535 });
  });

  it('is undefined (the kernel chooses) when the ephemeral range takes nearly every port', () => {
    expect(listenPortRange({ low: 1024, high: 65000 })).toBeUndefined();
  });
});

describe('ephemeralPortRange', () => {
  it('reads the kernel file, and is undefined without one', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-test-ports-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'range'), '40000\t50000\n');
    expect(ephemeralPortRange(path.join(dir, 'range'))).toEqual({ low: 40000, high: 50000 });
    expect(ephemeralPortRange(path.join(dir, 'missing'))).toBeUndefined();
  });
});

describe('freeLoopbackPort', () => {
  it('gives bindable ports outside this machine’s ephemeral range', async () => {
    const ephemeral = ephemeralPortRange();
    for (let i = 0; i < 30; i++) {
      const port = await freeLoopbackPort();
      if (ephemeral) expect(port < ephemeral.low || port > ephemeral.high, `port ${port} in ${ephemeral.low}-${ephemeral.high}`).toBe(true);
      expect(await bindable('127.0.0.1', port)).toBe(true);
    }
  });

  it('why: an outgoing connection’s source port (the kernel’s pick) cannot be listened on while it lives', async () => {
    const server = await listening(0);
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    closers.push(() => client.destroy());
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    // A server restarted on that port now fails with EADDRINUSE: the race the picker avoids.
    expect(await bindable('127.0.0.1', client.localPort!)).toBe(false);
    const ephemeral = ephemeralPortRange();
    if (ephemeral) expect(client.localPort!).toBeGreaterThanOrEqual(ephemeral.low);
  });

  it('never gives a port a listener holds', async () => {
    const held = await listening(await freeLoopbackPort());
    const port = (held.address() as net.AddressInfo).port;
    expect(await bindable('127.0.0.1', port)).toBe(false);
  });
});

function listening(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    closers.push(() => server.close());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
