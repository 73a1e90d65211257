import { describe, expect, it } from 'vitest';
import { describeEpochRanges, flattenRanges, idRanges, rangesByEpoch } from '../../src/assertions/ranges.js';

describe('idRanges', () => {
  it('compacts consecutive ids into inclusive ranges, whatever the order and duplicates', () => {
    expect(idRanges([7, 1, 2, 3, 3, 9, 8, 12])).toEqual([
      [1, 3],
      [7, 9],
      [12, 12],
    ]);
  });

  it('is empty for no ids', () => {
    expect(idRanges([])).toEqual([]);
  });
});

describe('rangesByEpoch / describeEpochRanges', () => {
  const items = [
    { id: 120, epoch: 1 },
    { id: 121, epoch: 1 },
    { id: 5, epoch: 2 },
    { id: 130, epoch: 1 },
  ];

  it('groups per epoch, ascending', () => {
    expect(rangesByEpoch(items)).toEqual([
      { epoch: 1, count: 3, ranges: [[120, 121], [130, 130]] },
      { epoch: 2, count: 1, ranges: [[5, 5]] },
    ]);
    expect(flattenRanges(rangesByEpoch(items))).toEqual([[120, 121], [130, 130], [5, 5]]);
  });

  it('spells ranges with their epoch and counts what it leaves out', () => {
    expect(describeEpochRanges(rangesByEpoch(items))).toBe('ids 120-121 and 130, epoch 1; id 5, epoch 2');
    const many = rangesByEpoch([1, 3, 5, 7, 9, 11, 13].map((id) => ({ id, epoch: 1 })));
    expect(describeEpochRanges(many, 3)).toBe('ids 1, 3, 5 and 4 more ranges, epoch 1');
  });
});
