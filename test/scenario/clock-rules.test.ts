import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatClockOffset, parseClockOffset } from '../../src/scenario/clock-offset.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-clock-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLOCK_PROBE = '{type: http, name: clock, target: service, maxClockSkew: 5s}';

function scenario(name: string, { offset = '+2h', probe = CLOCK_PROBE, targets = '{postgres: {provider: native}, service: {version: 4.4.0}}', step = '{step: clock-sync}' } = {}): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P2\ntargets: ${targets}\nworkload:\n  probes:\n    - ${probe}\n` +
      `faults:\n  - type: clock-skew\n    offset: ${offset}\nrecovery:\n  - ${step}\n`,
  );
  return file;
}

const issues = async (file: string) => (await invalid(loadScenarioFile(file))).issues;

describe('clock offsets', () => {
  it('parses a sign and a duration, days included', () => {
    expect(parseClockOffset('+2h')).toBe(7_200_000);
    expect(parseClockOffset('-10m')).toBe(-600_000);
    expect(parseClockOffset('+1d')).toBe(86_400_000);
    expect(parseClockOffset('-1h30m')).toBe(-5_400_000);
    expect(parseClockOffset('+45s')).toBe(45_000);
  });

  it('refuses what is not one: no sign, no unit, fractions, milliseconds, spaces', () => {
    for (const bad of ['2h', '+2', '+', '+1.5h', '+500ms', '+ 2h', '+2x', '++2h', '+-2h', '']) expect(parseClockOffset(bad), bad).toBeUndefined();
  });

  it('formats for messages, days as days', () => {
    expect(formatClockOffset(7_200_000)).toBe('+2h');
    expect(formatClockOffset(-600_000)).toBe('-10m');
    expect(formatClockOffset(93_600_000)).toBe('+1d2h');
    expect(formatClockOffset(86_400_000)).toBe('+1d');
    expect(formatClockOffset(0)).toBe('+0ms');
  });
});

describe('clock scenario rules', () => {
  it('loads the fault with its offset in ms, the step and the probe tolerance', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('ok', { offset: '-10m' }));
    expect(s.faults[0]).toEqual({ type: 'clock-skew', offset: -600_000 });
    expect(s.recovery[0]).toMatchObject({ step: 'clock-sync' });
    expect(s.workload.probes[0]).toMatchObject({ type: 'http', maxClockSkew: 5000 });
  });

  it('refuses a bad offset naming file, line and key, and what to write instead', async () => {
    const file = scenario('no-sign', { offset: '2h' });
    const [issue] = await issues(file);
    expect(issue).toMatchObject({ file, line: 11, keyPath: 'faults[0].offset' });
    expect(issue!.message).toMatch(/a signed offset like \+2h, -10m/);
    // YAML reads +7200 as a number.
    expect((await issues(scenario('number', { offset: '+7200' })))[0]).toMatchObject({ keyPath: 'faults[0].offset', message: expect.stringMatching(/expected text, got a number/) });
    expect(await issues(scenario('too-small', { offset: '+5s' }))).toContainEqual(expect.objectContaining({ keyPath: 'faults[0].offset', message: expect.stringMatching(/at least 10s either way/) }));
    expect((await issues(scenario('too-large', { offset: '+4000d' })))[0]).toMatchObject({ keyPath: 'faults[0].offset', message: expect.stringMatching(/at most 3650d/) });
  });

  it('needs a probe that reads the clock, with a tolerance below the offset', async () => {
    const none = await issues(scenario('no-clock-probe', { probe: '{type: http, name: h, target: service}' }));
    expect(none.map((i) => `${i.keyPath}: ${i.message}`)).toEqual([expect.stringMatching(/^faults\[0\]\.type: a skewed service answers as before: .*add maxClockSkew to an http probe with target: service/)]);
    const tolerant = await issues(scenario('tolerant', { offset: '+30s', probe: '{type: http, name: clock, target: service, maxClockSkew: 1m}' }));
    expect(tolerant.map((i) => `${i.keyPath}: ${i.message}`)).toEqual([expect.stringMatching(/^faults\[0\]\.offset: every clock probe tolerates this skew \(maxClockSkew 60s or more\)/)]);
    const badTolerance = await issues(scenario('bad-tolerance', { probe: '{type: http, name: clock, target: service, maxClockSkew: 500ms}' }));
    expect(badTolerance[0]).toMatchObject({ keyPath: 'workload.probes[0].maxClockSkew', message: expect.stringMatching(/at least 1s/) });
  });

  it('runs on the plain-process service only (targets.service)', async () => {
    const k8s = await issues(scenario('k8s', { targets: '{postgres: {provider: native}, kubernetes: {provider: local}}' }));
    const messages = k8s.map((i) => `${i.keyPath}: ${i.message}`);
    expect(messages).toContainEqual(expect.stringMatching(/^faults\[0\]\.type: clock-skew restarts the service's plain processes on this machine: add targets\.service/));
    expect(messages).toContainEqual(expect.stringMatching(/^recovery\[0\]\.step: clock-sync restarts the service's plain processes/));
  });
});
