import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-disk-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, postgres: string, fault = '{type: disk-full}', step = '{step: free-space}'): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: {postgres: ${postgres}}\nworkload:\n  probes:\n    - {type: sql, name: q, query: select 1}\n` +
      `faults:\n  - ${fault}\nrecovery:\n  - ${step}\n  - {step: pg-restart}\n`,
  );
  return file;
}

describe('disk scenario rules', () => {
  it('loads a WAL volume, the fault and the steps with their defaults', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('ok', '{provider: native, walVolume: {}}'));
    expect(s.targets.postgres?.walVolume).toEqual({ sizeMiB: 32 });
    expect(s.faults[0]).toEqual({ type: 'disk-full', volume: 'wal', failWithin: 30_000 });
    expect(s.recovery[0]).toMatchObject({ step: 'free-space', volume: 'wal', how: 'remove-filler' });
    expect(s.recovery[1]).toMatchObject({ step: 'pg-restart' });
    // fix-archiving after the fault it repairs; a grow that grows.
    const archive = await loadScenarioFile(scenario('archive-ok', '{provider: native, walVolume: {sizeMiB: 24}}', '{type: wal-archive-stuck}', '{step: free-space, how: grow, growToMiB: 25}\n  - {step: fix-archiving}'));
    expect(archive.scenario.recovery.map((r) => r.step)).toEqual(['free-space', 'fix-archiving', 'pg-restart']);
    await loadScenarioFile(scenario('grow-twice-ok', '{provider: native, walVolume: {}}', undefined, '{step: free-space, how: grow}\n  - {step: free-space, how: grow, growToMiB: 65}'));
    // The data volume: its own default size, the fault and step naming it.
    const data = await loadScenarioFile(scenario('data-ok', '{provider: native, dataVolume: {}}', '{type: disk-full, volume: data}', '{step: free-space, volume: data, how: grow, growToMiB: 65}'));
    expect(data.scenario.targets.postgres?.dataVolume).toEqual({ sizeMiB: 64 });
    expect(data.scenario.faults[0]).toEqual({ type: 'disk-full', volume: 'data', failWithin: 30_000 });
  });

  it('disk-io-errors needs targets.postgres.dataPassthrough on the native provider, not beside a dataVolume', async () => {
    const messages = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');
    const ok = await loadScenarioFile(scenario('io-ok', '{provider: native, dataPassthrough: {}}', '{type: disk-io-errors, table: transfers}', '{step: pg-restart}'));
    expect(ok.scenario.faults[0]).toEqual({ type: 'disk-io-errors', table: 'transfers', ops: 'read' });
    expect(await messages(scenario('io-none', '{provider: native}', '{type: disk-io-errors, table: transfers}', '{step: pg-restart}'))).toMatch(/faults\[0\]\.type: disk-io-errors .*add targets\.postgres\.dataPassthrough: \{\} and provider: native/);
    expect(await messages(scenario('io-auto', '{dataPassthrough: {}}', '{type: disk-io-errors, table: transfers}', '{step: pg-restart}'))).toMatch(/targets\.postgres\.dataPassthrough: .*set targets\.postgres\.provider: native \(now auto\)/);
    expect(await messages(scenario('io-both', '{provider: native, dataPassthrough: {}, dataVolume: {}}', '{type: disk-io-errors, table: transfers}', '{step: pg-restart}'))).toMatch(/dataPassthrough and dataVolume both put the data directory/);
    expect(await messages(scenario('io-table', '{provider: native, dataPassthrough: {}}', '{type: disk-io-errors, table: nope}', '{step: pg-restart}'))).toMatch(/faults\[0\]\.table/);
  });

  it('a fault or step on the data volume needs targets.postgres.dataVolume, and grows it past its own size', async () => {
    const messages = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');
    // A WAL volume is not a data volume.
    const noData = await messages(scenario('data-no-volume', '{provider: native, walVolume: {}}', '{type: disk-full, volume: data}', '{step: free-space, volume: data}'));
    expect(noData).toMatch(/faults\[0\]\.type: disk-full acts on the primary's data volume.*add targets\.postgres\.dataVolume \(e\.g\. dataVolume: \{sizeMiB: 64\}\)/);
    expect(noData).toMatch(/recovery\[0\]\.step: free-space acts on the primary's data volume/);
    expect(await messages(scenario('data-auto', '{dataVolume: {}}', '{type: disk-full, volume: data}', '{step: free-space, volume: data}'))).toMatch(
      /targets\.postgres\.dataVolume: the drill mounts the data volume on this machine.*provider: native \(now auto\)/,
    );
    expect(await messages(scenario('data-grow-same', '{provider: native, dataVolume: {sizeMiB: 64}, walVolume: {sizeMiB: 16}}', '{type: disk-full, volume: data}', '{step: free-space, volume: data, how: grow, growToMiB: 32}'))).toMatch(
      /recovery\[0\]\.growToMiB: a grow must make the data volume larger than its 64 MiB at this step \(targets\.postgres\.dataVolume\.sizeMiB\)/,
    );
    expect(await messages(scenario('data-too-small', '{provider: native, dataVolume: {sizeMiB: 16}}', '{type: disk-full, volume: data}', '{step: free-space, volume: data}'))).toMatch(/targets\.postgres\.dataVolume\.sizeMiB/);
  });

  it('refuses what cannot run, naming the key and what to do', async () => {
    const messages = async (file: string) => (await invalid(loadScenarioFile(file))).issues.map((i) => `${i.keyPath}: ${i.message}`).join('\n');
    expect(await messages(scenario('auto', '{walVolume: {sizeMiB: 16}}'))).toMatch(/targets\.postgres\.walVolume: .*set targets\.postgres\.provider: native \(now auto\)/);
    expect(await messages(scenario('no-volume', '{provider: native}'))).toMatch(/faults\[0\]\.type: disk-full acts on the primary's WAL volume.*add targets\.postgres\.walVolume/);
    expect(await messages(scenario('no-volume-step', '{provider: native}', '{type: pg-primary-crash}'))).toMatch(/recovery\[0\]\.step: free-space acts on/);
    expect(await messages(scenario('archive-no-volume', '{provider: native}', '{type: wal-archive-stuck}', '{step: fix-archiving}'))).toMatch(/faults\[0\]\.type: wal-archive-stuck acts on the primary's WAL volume/);
    expect(await messages(scenario('too-small', '{provider: native, walVolume: {sizeMiB: 2}}'))).toMatch(/targets\.postgres\.walVolume\.sizeMiB/);
    // fix-archiving resets archive_command: only where a wal-archive-stuck fault broke it.
    expect(await messages(scenario('archive-without-stuck', '{provider: native, walVolume: {}}', '{type: disk-full}', '{step: fix-archiving}'))).toMatch(
      /recovery\[0\]\.step: fix-archiving resets archive_command .*add a wal-archive-stuck fault, or remove this step/,
    );
    // A grow that does not grow: found here (exit 2), not at run time as VOLUME_NOT_GROWN (exit 1).
    expect(await messages(scenario('grow-same', '{provider: native, walVolume: {sizeMiB: 24}}', undefined, '{step: free-space, how: grow, growToMiB: 24}'))).toMatch(
      /recovery\[0\]\.growToMiB: a grow must make the WAL volume larger than its 24 MiB at this step \(targets\.postgres\.walVolume\.sizeMiB\); give a growToMiB above 24/,
    );
    expect(await messages(scenario('grow-default-size', '{provider: native, walVolume: {}}', undefined, '{step: free-space, how: grow, growToMiB: 16}'))).toMatch(/recovery\[0\]\.growToMiB: .*larger than its 32 MiB/);
    expect(await messages(scenario('grow-after-grow', '{provider: native, walVolume: {}}', undefined, '{step: free-space, how: grow}\n  - {step: free-space, how: grow, growToMiB: 64}'))).toMatch(
      /recovery\[1\]\.growToMiB: .*larger than its 64 MiB at this step \(after an earlier grow\)/,
    );
    expect(await messages(scenario('bad-how', '{provider: native, walVolume: {}}', undefined, '{step: free-space, how: delete-wal}'))).toMatch(/recovery\[0\]\.how/);
  });
});
