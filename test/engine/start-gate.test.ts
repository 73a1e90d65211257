import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awaitStartRequest } from '../../src/engine/start-gate.js';
import { identify } from '../../src/targets/process/process-identity.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-test-start-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const filesOf = () => {
  const base = path.join(dir, String(++n));
  return { start: `${base}.start`, interrupt: `${base}.interrupt` };
};

describe('awaitStartRequest', () => {
  it('waits until the start file is there, then removes it', async () => {
    const files = filesOf();
    let settled = false;
    const waiting = awaitStartRequest(files, identify(), 5).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(settled).toBe(false);
    writeFileSync(files.start, '');
    expect(await waiting).toBe('start');
    expect(existsSync(files.start)).toBe(false);
  });

  it('is cancelled by the interrupt file, even with the start file beside it', async () => {
    const files = filesOf();
    writeFileSync(files.interrupt, 'not run');
    writeFileSync(files.start, '');
    expect(await awaitStartRequest(files, identify(), 5)).toBe('cancelled');
  });

  it('is cancelled when the `drill run` that launched it is gone', async () => {
    const files = filesOf();
    // An identity no live process has: this pid with another start time.
    const gone = { pid: process.pid, startTime: 'another-boot:1' };
    expect(await awaitStartRequest(files, gone, 5)).toBe('cancelled');
  });
});
