import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corruptionExtent, type CheckedRelation } from '../../src/recovery/corruption-extent.js';
import { parsePgChecksumsOutput } from '../../src/recovery/offline-checksums.js';
import { loadScenarioFile, ScenarioValidationError } from '../../src/scenario/loader.js';

const relations: CheckedRelation[] = [
  { relation: 'transfers', kind: 'table', blocks: 31, file: 'base/5/100' },
  { relation: 'transfers_pkey', kind: 'index', table: 'transfers', blocks: 11, file: 'base/5/101' },
  { relation: 'accounts', kind: 'table', blocks: 2, file: 'base/5/102' },
];

describe('corruption extent report', () => {
  it('groups findings per relation and block, with what repairs each', () => {
    const extent = corruptionExtent(
      [
        { relation: 'transfers', kind: 'heap', block: 3, message: 'invalid page in block 3 of relation base/5/100' },
        { relation: 'transfers', kind: 'heap', block: 0, message: 'line pointer redirection to item at offset 90 exceeds maximum offset 60' },
        { relation: 'transfers', kind: 'heap', block: 0, message: 'line pointer redirection to item at offset 91 exceeds maximum offset 60' },
        { relation: 'transfers_pkey', kind: 'btree', block: 4, message: 'item order invariant violated for index "transfers_pkey"' },
      ],
      relations,
    );
    expect(extent.damaged).toEqual([
      expect.objectContaining({ relation: 'transfers', kind: 'table', blocks: 31, damagedBlocks: [0, 3], problems: 3, unplaced: 0, repair: 'restore', fileMissing: false }),
      expect.objectContaining({ relation: 'transfers_pkey', kind: 'index', table: 'transfers', damagedBlocks: [4], repair: 'reindex' }),
    ]);
    expect(extent.summary).toBe(
      '2 of 3 relation(s) damaged: table transfers: 3 problems (blocks 0, 3 of 31); index transfers_pkey on transfers: 1 problem (block 4 of 11)',
    );
  });

  it("places an index check's error about its table's file on the table, once", () => {
    const extent = corruptionExtent(
      [
        { relation: 'transfers', kind: 'heap', block: 3, message: 'invalid page in block 3 of relation base/5/100' },
        { relation: 'transfers_pkey', kind: 'btree', message: 'invalid page in block 3 of relation base/5/100' },
        { relation: 'transfers_pkey', kind: 'btree', message: 'could not open file "base/5/102.1": No such file or directory' },
      ],
      relations,
    );
    expect(extent.damaged.map((d) => [d.relation, d.damagedBlocks, d.problems, d.fileMissing])).toEqual([
      ['accounts', [], 1, true],
      ['transfers', [3], 1, false],
    ]);
  });

  it('says so when nothing is damaged', () => {
    expect(corruptionExtent([], relations)).toEqual({ relationsChecked: 3, damaged: [], summary: 'no corruption found in 3 relation(s)' });
  });
});

describe('pg_checksums --check output', () => {
  it('lists each failing page and the totals', () => {
    const output = [
      'pg_checksums: error: checksum verification failed in file "/tmp/x/data/base/5/100", block 1: calculated checksum 8D1E but block contains 2BDB',
      'pg_checksums: error: checksum verification failed in file "/tmp/x/data/base/5/100.1", block 7: calculated checksum 1 but block contains 2',
      'Checksum operation completed',
      'Files scanned:   946',
      'Blocks scanned:  2798',
      'Bad checksums:  2',
    ].join('\n');
    expect(parsePgChecksumsOutput(output, '/tmp/x/data')).toEqual({
      badBlocks: [
        { file: 'base/5/100', block: 1 },
        { file: 'base/5/100.1', block: 7 },
      ],
      blocksScanned: 2798,
      badCount: 2,
    });
  });
});

describe('pg-fat-finger in a scenario file', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-fat-finger-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const withFault = (fault: string) => {
    const source = readFileSync('drills/scenarios/pg-logical-corruption-pitr.yaml', 'utf8');
    const file = path.join(tmp, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, source.replace(/faults:\n(?: {2}.*\n)+/, `faults:\n${fault}\n`));
    return loadScenarioFile(file);
  };

  it('an update needs its SET list, a delete has none: file, line and key named', async () => {
    const error = await withFault('  - { type: pg-fat-finger, statement: update, table: accounts }').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioValidationError);
    expect((error as Error).message).toMatch(/:\d+:\d+ faults\[0\]\.statement.*an update needs `set`/);
    const second = await withFault('  - { type: pg-fat-finger, statement: delete, table: transfers, set: "x = 1" }').catch((e: unknown) => e);
    expect((second as Error).message).toMatch(/faults\[0\]\.set.*only an update has a SET list/);
    const ok = await withFault('  - { type: pg-fat-finger, statement: update, table: accounts, set: "balance = 0" }');
    expect(ok.scenario.faults).toEqual([{ type: 'pg-fat-finger', statement: 'update', table: 'accounts', set: 'balance = 0' }]);
  });
});
