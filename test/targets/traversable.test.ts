import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { postgresRunAs } from '../../src/targets/postgres/postgres-user.js';
import { firstUntraversable } from '../../src/targets/process/traversable.js';

// Short: a server's socket path under it must stay within 107 bytes.
const work = mkdtempSync(path.join(os.tmpdir(), 'dtv-'));
chmodSync(work, 0o711);
afterAll(() => rmSync(work, { recursive: true, force: true }));
const nobody = { uid: 65534, gid: 65534 };

describe('the directories a process of another user must enter', () => {
  it('names the first one its mode keeps that user out of; owner and primary group count, supplementary groups do not', () => {
    const locked = path.join(work, 'locked');
    mkdirSync(path.join(locked, 'inner'), { recursive: true });
    chmodSync(locked, 0o700);
    expect(firstUntraversable(path.join(locked, 'inner'), nobody)).toMatchObject({ dir: locked, mode: 0o700 });
    // Its owner gets in; so does its group with g+x.
    const me = { uid: process.getuid!(), gid: process.getgid!() };
    expect(firstUntraversable(path.join(locked, 'inner'), me)).toBeUndefined();
    chmodSync(locked, 0o710);
    expect(firstUntraversable(path.join(locked, 'inner'), { uid: 65534, gid: me.gid })).toBeUndefined();
    expect(firstUntraversable(path.join(locked, 'inner'), nobody)).toMatchObject({ dir: locked });
    chmodSync(locked, 0o711);
    expect(firstUntraversable(path.join(locked, 'inner'), nobody)).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)('a native PostgreSQL drill under a TMPDIR its server user cannot enter is refused before anything is made, naming TMPDIR\'s blocking directory', async () => {
    const tmp = path.join(work, 'p');
    mkdirSync(tmp, { mode: 0o700 });
    chmodSync(tmp, 0o700);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      expect(postgresRunAs()).toBeDefined();
      await expect(NativeDeployment.create({ runId: 'tt', clock: startClock(), ledger: new ResourceLedger(undefined) }, () => undefined)).rejects.toMatchObject({
        code: 'DIRECTORY_NOT_TRAVERSABLE',
        message: expect.stringContaining(`cannot enter ${tmp} (mode 0700`),
      });
      expect(readdirSync(tmp)).toEqual([]);
      // The positive control: the same TMPDIR opened to others, the drill gets past the check.
      chmodSync(tmp, 0o711);
      let made: NativeDeployment | undefined;
      try {
        made = await NativeDeployment.create({ runId: 'tt', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (made = d));
      } finally {
        await made?.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  }, 120_000);
});
