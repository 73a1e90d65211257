/**
 * A TMPDIR so long that PostgreSQL's unix socket path would not fit `sun_path`: refused before any
 * server starts, with the variable to change, and the workspace removed (real NativeDeployment).
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';

const outer = os.tmpdir();
const savedTmpdir = process.env.TMPDIR;
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

describe('PostgreSQL socket path', () => {
  it('a TMPDIR too long for the socket is refused before initdb, naming TMPDIR, and leaves nothing', async () => {
    const long = mkdtempSync(path.join(outer, `pg-socket-${'x'.repeat(50)}-`));
    // Enterable by PostgreSQL's user (mkdtemp makes it 0700), or the TMPDIR check refuses it first.
    chmodSync(long, 0o711);
    try {
      process.env.TMPDIR = long;
      let created: NativeDeployment | undefined;
      const attempt = NativeDeployment.create({ runId: 'test-socket-path', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (created = d));
      await expect(attempt).rejects.toMatchObject({ code: 'SOCKET_PATH_TOO_LONG', message: expect.stringMatching(/set TMPDIR to a shorter directory/) });
      expect(created).toBeUndefined();
      expect(readdirSync(long)).toEqual([]);
    } finally {
      rmSync(long, { recursive: true, force: true });
    }
  });

  it('positive control: the same deployment under a short TMPDIR starts', async () => {
    let created: NativeDeployment | undefined;
    try {
      created = await NativeDeployment.create({ runId: 'test-socket-path', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (created = d));
      expect(created.primary.connection.port).toBeGreaterThan(0);
    } finally {
      await created?.dispose();
    }
  });
});
