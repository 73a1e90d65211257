import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { endClient } from '../../src/targets/postgres/end-client.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { adminConnection } from '../../src/targets/postgres/sql-names.js';

/** Settles with 'pending' if `promise` has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => 'settled' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

describe('closing a client whose server is frozen (real PostgreSQL, its backend SIGSTOPped: a blackhole region)', () => {
  let deployment: NativeDeployment | undefined;
  const stopped: number[] = [];
  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'test-end-client', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
  });
  afterAll(async () => {
    // Thawed before the server stops (a stopped backend would hold its shutdown); gone already is fine.
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // exited
      }
    }
    await deployment?.dispose();
  });

  /** A connected client whose backend is then frozen: the kernel still acknowledges, nobody answers. */
  async function frozenSession(): Promise<{ client: pg.Client; backend: number }> {
    const client = new pg.Client({ ...adminConnection(deployment!.primary), connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    const backend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    process.kill(backend, 'SIGSTOP');
    stopped.push(backend);
    return { client, backend };
  }

  it('pg\'s own end() waits on the goodbye for ever (the negative control); endClient gives up after its grace and closes the socket', async () => {
    const plain = await frozenSession();
    const ending = plain.client.end();
    expect(await within(ending, 3000)).toBe('pending');

    const bounded = await frozenSession();
    const started = performance.now();
    await endClient(bounded.client, 500);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2500);
    expect(bounded.client.connection.stream.destroyed).toBe(true);

    // Thawed, the first backend reads the Terminate and closes: the plain end() settles after all.
    process.kill(plain.backend, 'SIGCONT');
    expect(await within(ending, 5000)).toBe('settled');
  });

  it('a server that answers is closed as before, without waiting out the grace', async () => {
    const client = new pg.Client({ ...adminConnection(deployment!.primary), connectionTimeoutMillis: 5000 });
    await client.connect();
    const started = performance.now();
    await endClient(client, 5000);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(client.connection.stream.destroyed).toBe(true);
  });
});
