import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { receiveVariables, variablesPipe } from '../../src/engine/variables-handoff.js';

const children: ChildProcess[] = [];
// What the pipe's temp dir is recorded in (the run's ledger in drill run).
const recorded: string[] = [];
const ledger = { record: (r: { kind: string; path?: string }) => void recorded.push(r.path ?? '') };
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A real process in vitest's main process's place: holds `fd3` as its descriptor 3 and never reads it. */
async function holder(fd3: number | 'ignore'): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: ['ignore', 'ignore', 'ignore', fd3], env: { PATH: process.env.PATH ?? '' } });
  children.push(child);
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  if (typeof fd3 === 'number') closeSync(fd3);
  return child.pid!;
}

describe("a scenario's ${VAR} values handed to the drill process through its parent's pipe", () => {
  it('reach the reader whole, once, and are in no environment and no file', async () => {
    const secret = `handoff-${process.pid}-${Date.now()}`;
    const variables = { API_TOKEN: secret, DB_URL: 'postgres://u@127.0.0.1/db', UNICODE: 'grüße ✓' };
    const parent = await holder(variablesPipe(variables, ledger));
    expect(readFileSync(`/proc/${parent}/environ`, 'utf8')).not.toContain(secret);
    expect(receiveVariables(parent)).toEqual(variables);
    // Its name was in the ledger before it existed, and is gone.
    expect(recorded.at(-1)).toMatch(/\/drill-vars-[0-9a-f]{16}$/);
    expect(existsSync(recorded.at(-1)!)).toBe(false);
    // Read once: the pipe is empty after, and saying so is an error, not an empty scenario.
    expect(() => receiveVariables(parent)).toThrow(expect.objectContaining({ code: 'SCENARIO_VARIABLES_UNREADABLE' }));
  });

  it('no values is an empty object, not an error', async () => {
    expect(receiveVariables(await holder(variablesPipe({}, ledger)))).toEqual({});
  });

  it('a parent without the pipe (not started by drill run) is an error that says what to do', async () => {
    const parent = await holder('ignore');
    expect(() => receiveVariables(parent)).toThrow(/run drills with `npx drill run`/);
    // This test process's descriptor 3 is not a pipe with values either.
    expect(() => receiveVariables(process.pid)).toThrow(expect.objectContaining({ code: 'SCENARIO_VARIABLES_UNREADABLE' }));
  });

  it('values larger than a pipe holds are refused before anything starts', () => {
    expect(() => variablesPipe({ HUGE: 'x'.repeat(70_000) }, ledger)).toThrow(expect.objectContaining({ code: 'SCENARIO_VARIABLES_TOO_LARGE' }));
  });
});
