import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { parseByteSize } from '../../src/scenario/resource-schema.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-resource-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, fault: string, { postgres = '{provider: native}', step = '{step: remove-resource-limit}' } = {}): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: {postgres: ${postgres}}\nworkload:\n  probes:\n    - {type: sql, name: q, query: select 1}\n` +
      `faults:\n  - ${fault}\nrecovery:\n  - ${step}\n  - {step: pg-restart}\n`,
  );
  return file;
}

const messages = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.line}:${i.keyPath}: ${i.message}`).join('\n');

describe('resource-pressure scenario rules', () => {
  it('parses a CPU share and a Kubernetes-style memory size, with their defaults', async () => {
    const cpu = await loadScenarioFile(scenario('cpu', '{type: cpu-stress, cpus: 0.05}'));
    expect(cpu.scenario.faults[0]).toEqual({ type: 'cpu-stress', cpus: 0.05 });
    expect(cpu.scenario.recovery[0]).toMatchObject({ step: 'remove-resource-limit' });
    const memory = await loadScenarioFile(scenario('memory', '{type: memory-stress, limit: 64Mi}'));
    expect(memory.scenario.faults[0]).toEqual({ type: 'memory-stress', limit: 64 * 1024 * 1024, mode: 'limit', killWithin: 30_000 });
    const oom = await loadScenarioFile(scenario('oom', '{type: memory-stress, limit: 1Gi, mode: oom-kill, killWithin: 10s}'));
    expect(oom.scenario.faults[0]).toEqual({ type: 'memory-stress', limit: 1024 ** 3, mode: 'oom-kill', killWithin: 10_000 });
    expect([parseByteSize('512Ki'), parseByteSize('64Mi'), parseByteSize('2Gi')]).toEqual([512 * 1024, 64 * 1024 ** 2, 2 * 1024 ** 3]);
    // Decimal units, bytes without a unit, fractions and a leading zero are not sizes here.
    for (const text of ['64M', '64MB', '67108864', '1.5Gi', '064Mi', '-1Mi', '']) expect(parseByteSize(text), text).toBeUndefined();
  });

  it('refuses bad values and combinations at the line of the key, saying what to do', async () => {
    // The fault is on line 10 of these files, the first recovery step on line 12.
    expect(await messages(scenario('unit', '{type: memory-stress, limit: 64MB}'))).toMatch(/^10:faults\[0\]\.limit: "64MB" is not valid: a size like 64Mi, 512Ki or 1Gi/m);
    expect(await messages(scenario('tiny', '{type: memory-stress, limit: 1Mi}'))).toMatch(/^10:faults\[0\]\.limit: must be at least 4Mi/m);
    expect(await messages(scenario('huge', '{type: memory-stress, limit: 65Gi}'))).toMatch(/^10:faults\[0\]\.limit: must be at most 64Gi/m);
    expect(await messages(scenario('no-limit', '{type: memory-stress}'))).toMatch(/^10:faults\[0\]\.limit/m);
    expect(await messages(scenario('bad-mode', '{type: memory-stress, limit: 64Mi, mode: kill}'))).toMatch(/^10:faults\[0\]\.mode/m);
    expect(await messages(scenario('kill-within-limit', '{type: memory-stress, limit: 64Mi, killWithin: 5s}'))).toMatch(/^10:faults\[0\]\.killWithin: killWithin bounds the wait for an OOM kill: use it with mode: oom-kill/m);
    expect(await messages(scenario('no-cpus', '{type: cpu-stress}'))).toMatch(/^10:faults\[0\]\.cpus/m);
    expect(await messages(scenario('zero-cpus', '{type: cpu-stress, cpus: 0}'))).toMatch(/^10:faults\[0\]\.cpus/m);
    expect(await messages(scenario('cpus-text', '{type: cpu-stress, cpus: 50m}'))).toMatch(/^10:faults\[0\]\.cpus/m);
    expect(await messages(scenario('stray-key', '{type: cpu-stress, cpus: 0.5, limit: 64Mi}'))).toMatch(/faults\[0\]/);
    // A cgroup of this machine: only for the native provider.
    expect(await messages(scenario('auto', '{type: cpu-stress, cpus: 0.1}', { postgres: '{provider: auto}' }))).toMatch(
      /^10:faults\[0\]\.type: cpu-stress moves the server's processes into a cgroup of this machine.*set targets\.postgres\.provider: native \(now auto\)/m,
    );
    expect(await messages(scenario('external', '{type: memory-stress, limit: 64Mi}', { postgres: '{provider: external, url: "postgres://x@127.0.0.1/x", drillTarget: true}' }))).toMatch(
      /faults\[0\]\.type: memory-stress moves .*\(now external\)/,
    );
    // Lifting a limit no fault set.
    expect(await messages(scenario('lift-nothing', '{type: pg-primary-crash}'))).toMatch(
      /^12:recovery\[0\]\.step: remove-resource-limit lifts the limit a cpu-stress or memory-stress fault set: add one of those faults, or remove this step/m,
    );
  });
});
