import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Pair } from 'yaml';

/**
 * Maps a key path (as zod reports it) back to a line and column in the YAML source, so every problem
 * can be shown where the user has to type the fix.
 */
export type KeyPath = readonly PropertyKey[];

export interface Position {
  line: number;
  column: number;
}

/**
 * What the position should point at: the key itself (unknown key), the value (wrong value), or the
 * mapping that should hold a key that is absent (missing key).
 */
export type Anchor = 'key' | 'value' | 'container';

type Doc = Document.Parsed;
type Range = readonly [number, number, number];

interface Step {
  pair?: Pair;
  node: unknown;
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `recovery[2].target`, `expect.rto`; odd keys are quoted so the path stays unambiguous. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && SIMPLE_KEY.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

export function locate(doc: Doc, lineCounter: LineCounter, path: KeyPath, anchor: Anchor): Position {
  return toPosition(lineCounter, offsetFor(doc, path, anchor));
}

/**
 * The key path around `offset`, to name the key near a syntax error. Only keys written before the
 * offset count: after a syntax error the tree past that point is the parser's guess.
 */
export function pathAtOffset(doc: Doc, offset: number): PropertyKey[] {
  const path: PropertyKey[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const index = lastStartingBefore(node.items.map((p) => rangeOf(p.key)), offset);
      const pair = index === undefined ? undefined : node.items[index]!;
      if (!pair || !isScalar(pair.key) || !reaches(pair.value ?? pair.key, offset, index === node.items.length - 1)) return path;
      path.push(String(pair.key.value));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = lastStartingBefore(node.items.map(rangeOf), offset);
      if (index === undefined || !reaches(node.items[index], offset, index === node.items.length - 1)) return path;
      path.push(index);
      node = node.items[index];
    } else {
      return path;
    }
  }
}

function lastStartingBefore(ranges: (Range | undefined)[], offset: number): number | undefined {
  let found: number | undefined;
  ranges.forEach((range, index) => {
    if (range && range[0] < offset) found = index;
  });
  return found;
}

/**
 * An error noticed right at a node's end (an unclosed `{` seen on the next line) belongs to that
 * node; anything after the last entry belongs to the last entry.
 */
function reaches(node: unknown, offset: number, isLast: boolean): boolean {
  const range = rangeOf(node);
  return isLast || (!!range && offset <= range[2]);
}

export function toPosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function offsetFor(doc: Doc, path: KeyPath, anchor: Anchor): number {
  const steps = walk(doc, path);
  const found = steps.length === path.length;
  const last = steps.at(-1);
  if (found && last) {
    if (anchor === 'key' && last.pair) return keyStart(last.pair) ?? 0;
    if (anchor === 'value') {
      const value = rangeOf(last.node);
      // `rto:` with nothing after it has an empty range; the key is the visible thing.
      if (value && value[1] > value[0]) return value[0];
      if (last.pair) return keyStart(last.pair) ?? 0;
    }
  }
  // Missing key (or a path the tree cannot follow, e.g. through a merge): point at the mapping
  // that should hold it, by its own key when it has one (`postgres:`), else its first line.
  const holder = steps.at(-1);
  if (holder?.pair) return keyStart(holder.pair) ?? 0;
  return rangeOf(holder ? holder.node : doc.contents)?.[0] ?? 0;
}

function walk(doc: Doc, path: KeyPath): Step[] {
  const steps: Step[] = [];
  let node: unknown = doc.contents;
  for (const segment of path) {
    node = resolve(doc, node);
    let step: Step | undefined;
    if (isMap(node)) {
      const pair = findPair(doc, node.items, String(segment));
      if (pair) step = { pair, node: pair.value };
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      step = { node: node.items[segment] };
    }
    if (!step) break;
    steps.push(step);
    node = step.node;
  }
  return steps;
}

/** A key may come from a `<<: *anchor` merge; then the anchor's mapping is where it is written. */
function findPair(doc: Doc, items: Pair[], key: string): Pair | undefined {
  const own = items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  if (own) return own;
  for (const pair of items) {
    if (!isScalar(pair.key) || (typeof pair.key.value !== 'symbol' && pair.key.value !== '<<')) continue;
    const sources = resolve(doc, pair.value);
    for (const source of isSeq(sources) ? sources.items : [sources]) {
      const target = resolve(doc, source);
      const merged = isMap(target) ? findPair(doc, target.items, key) : undefined;
      if (merged) return merged;
    }
  }
  return undefined;
}

function resolve(doc: Doc, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function keyStart(pair: Pair): number | undefined {
  return rangeOf(pair.key)?.[0];
}

function rangeOf(node: unknown): Range | undefined {
  const range = (node as { range?: Range } | null | undefined)?.range;
  return Array.isArray(range) ? range : undefined;
}
