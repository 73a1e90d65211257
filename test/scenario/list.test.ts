import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/errors.js';
import { listScenarios } from '../../src/scenario/list.js';
import { fixture } from './helpers.js';

describe('listScenarios', () => {
  it('lists scenario files by name, with broken ones carrying their problems instead of crashing', async () => {
    const dir = fixture('list');
    const entries = await listScenarios(dir);

    expect(entries).toEqual([
      {
        ok: false,
        file: `${dir}/a-broken.yaml`,
        error: expect.stringContaining(`${dir}/a-broken.yaml:14:11 recovery[1].step: unknown step`),
        issues: [expect.objectContaining({ keyPath: 'recovery[1].step' })],
      },
      { ok: true, file: `${dir}/b-valid.yaml`, name: 'demo', title: 'Demo drill', severity: 'P0', tags: [] },
    ]);
  });

  it('fails with an input error naming a directory that does not exist', async () => {
    const error = await listScenarios(fixture('nope')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/nope does not exist/);
  });
});
