/** Compact id ranges for messages and measurements: [1,2,3,7] -> [[1,3],[7,7]]. */

export type IdRange = [number, number];

/** Inclusive ranges of consecutive ids, ascending; input order and duplicates do not matter. */
export function idRanges(ids: Iterable<number>): IdRange[] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: IdRange[] = [];
  for (const id of sorted) {
    const last = ranges.at(-1);
    if (last !== undefined && id === last[1] + 1) last[1] = id;
    else ranges.push([id, id]);
  }
  return ranges;
}

/** Ids grouped by the writer epoch they belong to. */
export interface EpochRanges {
  epoch: number;
  count: number;
  ranges: IdRange[];
}

/** Group {id, epoch} items per epoch (ascending), each with its id ranges and distinct-id count. */
export function rangesByEpoch(items: Iterable<{ id: number; epoch: number }>): EpochRanges[] {
  const byEpoch = new Map<number, Set<number>>();
  for (const { id, epoch } of items) {
    let ids = byEpoch.get(epoch);
    if (ids === undefined) byEpoch.set(epoch, (ids = new Set()));
    ids.add(id);
  }
  return [...byEpoch.entries()]
    .sort(([a], [b]) => a - b)
    .map(([epoch, ids]) => ({ epoch, count: ids.size, ranges: idRanges(ids) }));
}

/** All ranges of all epochs in one list (epoch order, then id order), as Measurements stores them. */
export function flattenRanges(groups: EpochRanges[]): IdRange[] {
  return groups.flatMap((group) => group.ranges.map(([from, to]): IdRange => [from, to]));
}

export function formatRange([from, to]: IdRange): string {
  return from === to ? `${from}` : `${from}-${to}`;
}

/**
 * "ids 120-200, epoch 1" / "id 7, epoch 1; ids 3-4 and 9, epoch 2". At most `maxRanges` ranges
 * are spelt out per epoch; the rest is counted ("and 4 more ranges").
 */
export function describeEpochRanges(groups: EpochRanges[], maxRanges = 5): string {
  return groups
    .map(({ epoch, count, ranges }) => {
      const shown = ranges.slice(0, maxRanges).map(formatRange);
      const hidden = ranges.length - shown.length;
      if (hidden > 0) shown.push(`${hidden} more ${hidden === 1 ? 'range' : 'ranges'}`);
      const list = shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}` : shown[0];
      return `${count === 1 ? 'id' : 'ids'} ${list}, epoch ${epoch}`;
    })
    .join('; ');
}
